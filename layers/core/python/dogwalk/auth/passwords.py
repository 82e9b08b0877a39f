"""Passwords: Argon2id hashes (OWASP parameters), re-hashed when the parameters change, and the
policy a new password must meet.

`common_passwords.txt` is the 30,000 most common passwords of the zxcvbn project's frequency
lists (MIT licence), lower-cased.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 12
MAX_LENGTH = 128

# OWASP's Argon2id recommendation: m = 19 MiB, t = 2, p = 1
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, hash_len=32, salt_len=16, type=Type.ID)


def _normalized(password: str) -> str:
    # the same password typed on two keyboards may arrive composed or decomposed (NIST SP 800-63B)
    return unicodedata.normalize("NFKC", password)


def hash_password(password: str) -> str:
    return _hasher.hash(_normalized(password))


@cache
def _dummy_hash() -> str:
    return _hasher.hash("a password no account has, for unknown emails")


def verify_password(stored_hash: str | None, password: str) -> tuple[bool, str | None]:
    """Whether `password` matches, and a fresh hash when the stored one uses old parameters.

    With no stored hash (unknown email) a dummy hash is verified, so that the answer takes as
    long as for a wrong password.
    """
    try:
        _hasher.verify(stored_hash or _dummy_hash(), _normalized(password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False, None
    if stored_hash is None:
        return False, None
    return True, hash_password(password) if _hasher.check_needs_rehash(stored_hash) else None


@cache
def _common_passwords() -> frozenset[str]:
    return frozenset((Path(__file__).with_name("common_passwords.txt")).read_text().split("\n")) - {""}


def policy_problems(password: str, email: str) -> list[str]:
    """What is wrong with a new password; empty when it is acceptable."""
    problems = []
    password = _normalized(password)
    if len(password) < MIN_LENGTH:
        problems.append(f"must be at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        problems.append(f"must be at most {MAX_LENGTH} characters")
    if password.lower() in _common_passwords():
        problems.append("is one of the most common passwords")
    if password.strip().lower() == email.strip().lower():
        problems.append("must not be your email address")
    return problems
