"""Cursor pagination: `?limit=` (default 20, at most 100) and an opaque `?cursor=` that carries the
last item's sort key, so a page is a keyset query, not an OFFSET."""

from __future__ import annotations

import base64
import json
from typing import Any

from dogwalk.errors import ValidationFailed

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


def encode_cursor(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, length: int) -> list[Any] | None:
    """The sort key a cursor carries, or None for the first page; 422 for anything else."""
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError:
        key = None
    if not isinstance(key, list) or len(key) != length:
        raise ValidationFailed(
            "The cursor is not one this API gave.", errors=[{"loc": ["query", "cursor"], "msg": "invalid cursor"}]
        )
    return key


def page(rows: list[dict[str, Any]], limit: int, key_of: Any) -> tuple[list[dict[str, Any]], str | None]:
    """The first `limit` rows and the cursor of the next page (rows holds up to limit + 1)."""
    if len(rows) > limit:
        return rows[:limit], encode_cursor(key_of(rows[limit - 1]))
    return rows, None
