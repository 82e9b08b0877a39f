"""Refresh tokens in families: each refresh spends the presented token and issues the next one of
the same family; a spent token presented again revokes the whole family (a stolen token was
used), except within a few seconds of its spending, where it is the same client racing itself.

Tokens are 256 random bits; only their SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from dogwalk.adapters import db
from dogwalk.adapters.db import Connection
from dogwalk.errors import Unauthorized

LIFETIME = timedelta(days=30)
# a second refresh with the same token this soon after the first is a client race, not theft
REUSE_GRACE = timedelta(seconds=10)


@dataclass(frozen=True)
class Rotated:
    user_id: str
    role: str
    family_id: str
    refresh_token: str


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def _issue(conn: Connection, family_id: str) -> str:
    token = secrets.token_urlsafe(32)
    conn.execute(
        "INSERT INTO refresh_tokens (token_hash, family_id, expires_at) VALUES (%s, %s, now() + %s)",
        (_hash(token), family_id, LIFETIME),
    )
    return token


def start_family(conn: Connection, user_id: str) -> str:
    """A new family (a login) and its first refresh token."""
    family_id = str(uuid.uuid4())
    conn.execute("INSERT INTO refresh_families (id, user_id) VALUES (%s, %s)", (family_id, user_id))
    return _issue(conn, family_id)


def family_of(conn: Connection, token: str) -> str | None:
    row = conn.execute("SELECT family_id::text AS id FROM refresh_tokens WHERE token_hash = %s", (_hash(token),))
    found = row.fetchone()
    return found["id"] if found else None


def rotate(conn: Connection, token: str) -> Rotated | Unauthorized:
    """Spend `token` and issue its successor, in the caller's transaction.

    A refusal is returned, not raised, so that the caller commits what it did (revoking the
    family of a reused token) before answering 401. Concurrent rotations of one token serialise
    on its row: exactly one spends it.
    """
    spent = conn.execute(
        """
        UPDATE refresh_tokens t SET spent_at = now()
          FROM refresh_families f JOIN users u ON u.id = f.user_id
         WHERE t.token_hash = %s AND t.family_id = f.id
           AND t.spent_at IS NULL AND t.expires_at > now()
           AND f.revoked_at IS NULL AND u.suspended_at IS NULL AND u.deleted_at IS NULL
        RETURNING f.id::text AS family_id, u.id::text AS user_id, u.role
        """,
        (_hash(token),),
    ).fetchone()
    if spent is not None:
        return Rotated(spent["user_id"], spent["role"], spent["family_id"], _issue(conn, spent["family_id"]))
    known = conn.execute(
        "SELECT family_id::text AS family_id, spent_at, now() - spent_at < %s AS in_grace"
        " FROM refresh_tokens WHERE token_hash = %s",
        (REUSE_GRACE, _hash(token)),
    ).fetchone()
    if known is not None and known["spent_at"] is not None:
        if not known["in_grace"]:
            revoke_family(conn, known["family_id"], "reuse")
        return Unauthorized("This refresh token was already used.", code="token_reused")
    return Unauthorized("The refresh token is invalid, expired or revoked.", code="invalid_token")


def revoke_family(conn: Connection, family_id: str, why: str) -> None:
    conn.execute(
        "UPDATE refresh_families SET revoked_at = now(), revoked_why = %s WHERE id = %s AND revoked_at IS NULL",
        (why, family_id),
    )


def revoke_all(conn: Connection, user_id: str, why: str) -> int:
    """Revoke every live family of the user (password change or reset, suspension, deletion); how
    many there were."""
    return conn.execute(
        "UPDATE refresh_families SET revoked_at = now(), revoked_why = %s WHERE user_id = %s AND revoked_at IS NULL",
        (why, user_id),
    ).rowcount


def logout(user_id: str, refresh_token: str) -> None:
    """Revoke the token's family; a token of someone else's, or unknown, changes nothing. Here, not
    in `accounts`: logging out needs neither Argon2, JWT nor TOTP, and its function imports none."""
    with db.transaction() as conn:
        family_id = family_of(conn, refresh_token)
        if family_id is None:
            return
        owner = conn.execute("SELECT user_id::text FROM refresh_families WHERE id = %s", (family_id,)).fetchone()
        if owner and owner["user_id"] == user_id:
            revoke_family(conn, family_id, "logout")
