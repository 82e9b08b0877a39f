"""Single-use tokens mailed to a user: email verification (24 hours) and password reset (30 minutes).

A token is 256 random bits (`secrets.token_urlsafe(32)`); only its SHA-256 is stored, with its kind,
the digest of the address it was mailed to, its expiry, and when it was used or voided. Redeeming
one is a single conditional `UPDATE … WHERE used_at IS NULL … RETURNING`: of concurrent redemptions
of one token exactly one wins (the others wait on the row, then find it used). A newer reset token
voids the older ones; a redemption voids the user's other live tokens of its kind.

Tokens are made when the email goes out (`dogwalk.notifications.account_events`), not when they are
asked for: the raw token exists only in the email, and the request path does the same work whether
or not the address has an account.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from dogwalk.adapters import db
from dogwalk.adapters.db import Connection

VERIFY_EMAIL = "verify_email"
RESET_PASSWORD = "reset_password"  # noqa: S105  # nosec B105 - a kind's name, not a secret
LIFETIME = {VERIFY_EMAIL: timedelta(hours=24), RESET_PASSWORD: timedelta(minutes=30)}


@dataclass(frozen=True)
class Holder:
    """Whom a live token speaks for."""

    user_id: str
    email: str
    role: str


def email_digest(email: str) -> str:
    """The SHA-256 (hex) of a normalised address: what travels instead of it (the database's
    `email_digest()` computes the same bytes)."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def issue(user_id: str, kind: str, *, now: datetime | None = None) -> str | None:
    """A new token of `kind` for the user's current address, or None when the user is deleted.

    The user's row is locked while the older reset tokens are voided, so two reset emails going out
    at once still leave exactly one live token."""
    moment = now or datetime.now(UTC)
    token = secrets.token_urlsafe(32)
    with db.transaction() as conn:
        user = conn.execute(
            "SELECT email::text AS email FROM users WHERE id = %s AND deleted_at IS NULL FOR UPDATE", (user_id,)
        ).fetchone()
        if user is None:
            return None
        if kind == RESET_PASSWORD:
            _void(conn, user_id, kind, moment)
        conn.execute(
            "INSERT INTO account_tokens (token_hash, user_id, kind, email_digest, created_at, expires_at)"
            " VALUES (%s, %s, %s, email_digest(%s), %s, %s)",
            (_hash(token), user_id, kind, user["email"], moment, moment + LIFETIME[kind]),
        )
    return token


_LIVE = """
    t.token_hash = %s AND t.kind = %s AND t.used_at IS NULL AND t.voided_at IS NULL AND t.expires_at > %s
    AND u.id = t.user_id AND u.deleted_at IS NULL AND t.email_digest = email_digest(u.email::text)
"""


def holder(conn: Connection, token: str, kind: str, *, now: datetime) -> Holder | None:
    """Whom a live token of `kind` speaks for, without spending it (None: unknown, used, voided,
    expired, or mailed to an address the account no longer has)."""
    row = conn.execute(
        "SELECT u.id::text AS user_id, u.email::text AS email, u.role FROM account_tokens t, users u WHERE " + _LIVE,  # noqa: S608  # nosec B608 - a constant
        (_hash(token), kind, now),
    ).fetchone()
    return Holder(**row) if row else None


def redeem(conn: Connection, token: str, kind: str, *, now: datetime) -> Holder | None:
    """Spend a live token of `kind` in the caller's transaction: whom it spoke for, or None (see
    `holder`). The user's other live tokens of that kind are voided with it."""
    row = conn.execute(
        "UPDATE account_tokens t SET used_at = %s FROM users u WHERE "  # noqa: S608  # nosec B608 - a constant
        + _LIVE
        + " RETURNING u.id::text AS user_id, u.email::text AS email, u.role",
        (now, _hash(token), kind, now),
    ).fetchone()
    if row is None:
        return None
    _void(conn, row["user_id"], kind, now)
    return Holder(**row)


def _void(conn: Connection, user_id: str, kind: str, now: datetime) -> None:
    conn.execute(
        "UPDATE account_tokens SET voided_at = %s"
        " WHERE user_id = %s AND kind = %s AND used_at IS NULL AND voided_at IS NULL",
        (now, user_id, kind),
    )
