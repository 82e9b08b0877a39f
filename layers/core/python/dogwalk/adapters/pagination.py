"""Cursor pagination: `?limit=` (default 20, at most 100) and an opaque `?cursor=` that carries the
last item's sort key, so a page is a keyset query, not an OFFSET."""

from __future__ import annotations

import base64
import json
import math
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from dogwalk.errors import ValidationFailed

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


def encode_cursor(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode().rstrip("=")


def instant(value: Any) -> datetime:
    """A cursor part that is a timestamp with its offset."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    if moment is None or moment.tzinfo is None:
        raise ValueError("not an instant")
    return moment


def identifier(value: Any) -> str:
    """A cursor part that is a UUID."""
    if not isinstance(value, str):
        raise ValueError("not an id")
    return str(uuid.UUID(value))


def number(value: Any) -> float:
    """A cursor part that is a number."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError("not a number")
    return float(value)


def decode_cursor(cursor: str | None, *parts: Callable[[Any], Any]) -> list[Any] | None:
    """The sort key a cursor carries, each part read by its reader (`instant`, `identifier`,
    `number`), or None for the first page; 422 for anything else, so that a forged cursor never
    reaches the query as a value of the wrong type."""
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(key, list) or len(key) != len(parts):
            raise ValueError("not a key of this list")
        return [read(value) for read, value in zip(parts, key, strict=True)]
    except ValueError:
        raise ValidationFailed(
            "The cursor is not one this API gave.", errors=[{"loc": ["query", "cursor"], "msg": "invalid cursor"}]
        ) from None


def page(rows: list[dict[str, Any]], limit: int, key_of: Any) -> tuple[list[dict[str, Any]], str | None]:
    """The first `limit` rows and the cursor of the next page (rows holds up to limit + 1)."""
    if len(rows) > limit:
        return rows[:limit], encode_cursor(key_of(rows[limit - 1]))
    return rows, None


def oldest_first(query: str, params: tuple[Any, ...], limit: int, cursor: str | None) -> Page:
    """A page of `query` (a SELECT … WHERE … of rows with `created_at` and a uuid `id`), oldest first."""
    return _by_creation(query, params, limit, cursor, newest=False)


def newest_first(query: str, params: tuple[Any, ...], limit: int, cursor: str | None) -> Page:
    """The same page order reversed: newest first, ties on `created_at` by id, descending."""
    return _by_creation(query, params, limit, cursor, newest=True)


def _by_creation(query: str, params: tuple[Any, ...], limit: int, cursor: str | None, *, newest: bool) -> Page:
    from dogwalk.adapters import db

    after = decode_cursor(cursor, instant, identifier)
    beyond, direction = ("<", "DESC") if newest else (">", "")
    keyset, key = (
        ("", ()) if after is None else (f" AND (created_at, id) {beyond} (%s::timestamptz, %s::uuid)", tuple(after))
    )
    # a bare `id` in ORDER BY would be the selected `id::text` (a sort); as an expression it is the
    # table's uuid, the order of the (…, created_at, id) indexes
    order = f" ORDER BY created_at {direction}, id::uuid {direction} LIMIT %s"
    with db.transaction() as conn:
        rows = conn.execute(query + keyset + order, (*params, *key, limit + 1)).fetchall()
    return page(rows, limit, lambda row: [row["created_at"].isoformat(), row["id"]])


Page = tuple[list[dict[str, Any]], str | None]
