"""The in-app inbox as its user reads it: newest first, a page at a time, and marking one read.
Someone else's notification is not found (no existence leaks)."""

from __future__ import annotations

from typing import Any

from dogwalk import db
from dogwalk.errors import NotFound, require_id
from dogwalk.pagination import Page, decode_cursor, identifier, instant, page

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


def newest_first(query: str, params: tuple[Any, ...], limit: int, cursor: str | None) -> Page:
    """A page of `query` (a SELECT … WHERE … of a table with `created_at` and a uuid `id`), newest
    first: the mirror of `pagination.oldest_first`, ties on `created_at` by id, descending."""
    before = decode_cursor(cursor, instant, identifier)
    keyset, key = ("", ()) if before is None else (" AND (created_at, id) < (%s::timestamptz, %s::uuid)", tuple(before))
    # a bare `id` in ORDER BY would be the selected `id::text`; in an expression it is the table's
    # uuid, the order of the (user_id, created_at DESC, id DESC) index, so no sort
    order = " ORDER BY created_at DESC, id::uuid DESC LIMIT %s"
    with db.transaction() as conn:
        rows = conn.execute(query + keyset + order, (*params, *key, limit + 1)).fetchall()
    return page(rows, limit, lambda row: [row["created_at"].isoformat(), row["id"]])
