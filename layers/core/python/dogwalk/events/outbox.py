"""Domain events into the outbox, in the transaction of the change they describe; the relay
(`dogwalk.events.relay`) publishes them to the events topic (at least once; consumers dedupe by the
event id). The ids recorded during a request are remembered so that the request can publish
them right after its commit (best effort; the minute sweep is the guarantee)."""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any

from dogwalk.adapters.db import Connection

EVENT_TYPES = (
    "booking.requested", "booking.accepted", "booking.declined", "booking.expired", "booking.cancelled",
    "walk.started", "walk.completed", "payment.captured", "payment.refunded", "payment.failed", "payout.sent",
    "tip.received", "review.received", "verification.decided", "payment.disputed",
    "message.received", "walk.late", "booking.change_proposed", "booking.changed",
)  # fmt: skip
# The account's own emails (verification, reset, password changed, deleted): email only, always sent,
# never a preference; a reset request names no recipient (its address's digest is found at delivery).
ACCOUNT_EVENT_TYPES = (
    "account.verification_requested", "account.reset_requested", "account.password_changed", "account.deleted",
)  # fmt: skip

_recorded = threading.local()


def record(
    conn: Connection, event_type: str, recipient_id: str | None, recipient_role: str | None, payload: dict[str, Any]
) -> str:
    if event_type not in EVENT_TYPES and event_type not in ACCOUNT_EVENT_TYPES:
        raise ValueError(f"unknown domain event {event_type!r}")
    event_id = str(uuid.uuid4())
    conn.execute(
        "INSERT INTO outbox (id, event_type, recipient_id, recipient_role, payload) VALUES (%s, %s, %s, %s, %s)",
        (event_id, event_type, recipient_id, recipient_role, json.dumps(payload, default=str)),
    )
    recorded().append(event_id)
    return event_id


def recorded() -> list[str]:
    """The ids this thread recorded since `forget` (some may belong to a transaction rolled back:
    the relay publishes only rows that exist)."""
    if not hasattr(_recorded, "ids"):
        _recorded.ids = []
    ids: list[str] = _recorded.ids
    return ids


def forget() -> list[str]:
    """The ids recorded so far, and a fresh start."""
    ids = recorded()
    _recorded.ids = []
    return ids
