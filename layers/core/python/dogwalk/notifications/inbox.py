"""The in-app inbox as its user reads it: newest first, a page at a time, and marking one read.
Someone else's notification is not found (no existence leaks)."""

from __future__ import annotations

from dogwalk.adapters import db
from dogwalk.adapters.pagination import Page, newest_first
from dogwalk.errors import NotFound, require_id

_COLUMNS = "id::text, event_type, title, body, data, created_at, read_at"


def list_page(user_id: str, limit: int, cursor: str | None) -> Page:
    query = f"SELECT {_COLUMNS} FROM notifications WHERE user_id = %s"  # noqa: S608  # nosec B608
    return newest_first(query, (user_id,), limit, cursor)


def mark_read(user_id: str, notification_id: str) -> None:
    """Idempotent: reading it again keeps the first `read_at`."""
    require_id(notification_id, "notification")
    with db.transaction() as conn:
        found = conn.execute(
            "UPDATE notifications SET read_at = coalesce(read_at, now()) WHERE id = %s AND user_id = %s RETURNING id",
            (notification_id, user_id),
        ).fetchone()
    if found is None:
        raise NotFound("No such notification.")
