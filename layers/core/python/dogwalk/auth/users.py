"""Users: reading them. A suspended or deleted user is not found."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dogwalk.adapters import db
from dogwalk.errors import NotFound


@dataclass(frozen=True)
class User:
    id: str
    email: str
    role: str
    name: str
    phone: str | None
    mfa_enabled: bool
    created_at: datetime
    email_verified: bool = False


_COLUMNS = (
    "id::text, email::text, role, name, phone, mfa_enabled, created_at, email_verified_at IS NOT NULL AS email_verified"
)


def get_user(user_id: str) -> User:
    """The user, or `NotFound` (also for a malformed id: no existence leaks either way)."""
    with db.transaction() as conn:
        row = conn.execute(
            f"SELECT {_COLUMNS} FROM users WHERE id::text = %s AND suspended_at IS NULL AND deleted_at IS NULL",  # noqa: S608  # nosec B608
            (user_id,),
        ).fetchone()
    if row is None:
        raise NotFound("No such user.")
    return User(**row)
