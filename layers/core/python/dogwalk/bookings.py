"""The booking state machine: requested → accepted → in_progress → completed; requested →
declined | expired | cancelled; accepted → cancelled. Each transition is one transaction that
locks the booking, checks its state, writes the new one, an audit row and the domain event for
the other party. PostgreSQL refuses overlapping accepted bookings of one walker (an exclusion
constraint), which answers 409 `booking_conflict`."""

from __future__ import annotations

from typing import Any

import psycopg

from dogwalk import db, outbox
from dogwalk.errors import Conflict, InvalidState, NotFound

ALLOWED: dict[str, frozenset[str]] = {
    "requested": frozenset({"accepted", "declined", "expired", "cancelled"}),
    "accepted": frozenset({"cancelled", "in_progress"}),
    "in_progress": frozenset({"completed"}),
}
# the event each arrival publishes, and who hears of it
EVENTS: dict[str, tuple[str, str]] = {
    "accepted": ("booking.accepted", "owner"),
    "declined": ("booking.declined", "owner"),
    "expired": ("booking.expired", "owner"),
    "in_progress": ("walk.started", "owner"),
    "completed": ("walk.completed", "owner"),
}


def transition(
    conn: db.Connection, booking_id: str, to: str, *, actor_id: str | None, reason: str | None = None
) -> dict[str, Any]:
    """Move the booking to `to` inside the caller's transaction; its row, as it is now."""
    booking = conn.execute(
        "SELECT id::text, owner_id::text, walker_id::text, status, start_ts, end_ts FROM bookings"
        " WHERE id = %s FOR UPDATE",
        (booking_id,),
    ).fetchone()
    if booking is None:
        raise NotFound("No such booking.")
    current = booking["status"]
    if to not in ALLOWED.get(current, frozenset()):
        raise InvalidState(f"A {current} booking cannot become {to}.")
    try:
        with conn.transaction():  # a savepoint: a conflict leaves the caller's transaction usable
            conn.execute("UPDATE bookings SET status = %s, updated_at = now() WHERE id = %s", (to, booking_id))
    except psycopg.errors.ExclusionViolation:
        raise Conflict("The walker already has an accepted walk at that time.", code="booking_conflict") from None
    conn.execute(
        "INSERT INTO booking_transitions (booking_id, from_status, to_status, actor_id, reason)"
        " VALUES (%s, %s, %s, %s, %s)",
        (booking_id, current, to, actor_id, reason),
    )
    event, recipient_role = EVENTS.get(to, ("booking.cancelled", ""))
    if to == "cancelled":  # the other party hears of it
        recipient_role = "walker" if actor_id == booking["owner_id"] else "owner"
    recipient = booking["owner_id"] if recipient_role == "owner" else booking["walker_id"]
    outbox.record(conn, event, recipient, recipient_role, {"booking_id": booking_id, "from": current, "to": to,
                                                           "reason": reason})  # fmt: skip
    return {**booking, "status": to}


def move(booking_id: str, to: str, *, actor_id: str | None, reason: str | None = None) -> dict[str, Any]:
    """`transition` in a transaction of its own."""
    with db.transaction() as conn:
        return transition(conn, booking_id, to, actor_id=actor_id, reason=reason)
