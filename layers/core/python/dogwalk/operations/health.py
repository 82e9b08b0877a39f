"""Whether the platform's dependencies answer: what Route 53 health checks ask."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from dogwalk.adapters import cache, db

State = Literal["ok", "down"]


def check_dependencies() -> dict[str, State]:
    """`{"database": "ok"|"down", "cache": "ok"|"down"}`; never raises."""
    return {"database": _probe(db.ping), "cache": _probe(cache.ping)}


def _probe(ping: Callable[[], None]) -> State:
    try:
        ping()
    except Exception:  # any failure of the dependency means "down"; the probe itself must not fail
        return "down"
    return "ok"
