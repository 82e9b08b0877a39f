"""The holds placed after the request: the job that places each walk's hold once it is 5 days away
and cancels the bookings whose failed payment was not fixed in time, and the owner's fix (another
saved card for a booking whose payment failed).

The job (`place_due_holds`, every 15 minutes) takes the bookings requested or accepted whose
payment is `scheduled` and whose walk starts within 5 days, one at a time, each in its own
transaction with its row locked `FOR UPDATE SKIP LOCKED` while the gateway is called: runs that
overlap never hold one booking twice (a row another run holds is skipped, a row it finished no
longer matches), and the attempt's idempotency key makes a crashed run's retry find its hold.
Every 15 minutes places a hold within 15 minutes of the walk coming 5 days away, and leaves a day
of runs before the latest moment (4 days before) for the gateway to come back from an outage:
unreachable, it leaves the booking `scheduled` for the next run, never `failed`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dogwalk.adapters import db
from dogwalk.adapters.observability import logger
from dogwalk.bookings import holds, lifecycle
from dogwalk.errors import Conflict, InvalidState, NotFound, PaymentDeclined, Unavailable, ValidationFailed, require_id
from dogwalk.events import outbox
from dogwalk.payments import gateway

BATCH = 200  # bookings a run takes up; the rest wait 15 minutes (a run must end within its timeout)
OPEN = ("requested", "accepted")  # the bookings whose payment is still to be held


def run(now: datetime | None = None) -> dict[str, int]:
    """One run of the job at `now` (the scheduled event's time): the holds that are due, then the
    bookings whose failed payment's deadline passed. What it did, by outcome."""
    moment = now or datetime.now(UTC)
    outcome = {"placed": 0, "failed": 0, "unreachable": 0, "waiting": 0, "cancelled": 0}
    for booking_id in _ids(
        "SELECT id::text FROM bookings WHERE payment_status = 'scheduled' AND status = ANY(%s) AND start_ts <= %s"
        " ORDER BY start_ts LIMIT %s",
        (list(OPEN), moment + holds.HOLD_AHEAD, BATCH),
    ):
        result = place_due(booking_id, now=moment)
        outcome[result] += 1
        if result == "unreachable":  # the gateway is down: the rest waits for the next run too
            break
    for booking_id in _ids(
        "SELECT id::text FROM bookings WHERE payment_status = 'failed' AND status = ANY(%s) AND payment_deadline <= %s"
        " ORDER BY payment_deadline LIMIT %s",
        (list(OPEN), moment, BATCH),
    ):
        outcome["cancelled"] += cancel_unpaid(booking_id, now=moment)
    return outcome


def _ids(query: str, params: tuple[Any, ...]) -> list[str]:
    with db.transaction() as conn:
        return [row["id"] for row in conn.execute(query, params).fetchall()]


def place_due(booking_id: str, *, now: datetime) -> str:
    """Place one booking's hold if it is still due and no other run has it: `placed`, `failed`
    (declined: recorded, both told), `unreachable` (the gateway is down: left `scheduled`),
    `waiting` (another run has it, or it changed meanwhile)."""
    with db.transaction() as conn:
        booking = holds.locked(conn, booking_id, skip_locked=True)
        if (
            booking is None
            or booking["payment_status"] != "scheduled"
            or booking["status"] not in OPEN
            or not holds.due(booking["start_ts"], now)
        ):
            return "waiting"
        try:
            placed = holds.place(conn, booking, now=now)
        except Unavailable:
            logger.warning("payment gateway unreachable; the hold waits", extra={"booking_id": booking_id})
            return "unreachable"
        except Conflict:  # the same attempt is running at the gateway (a run that timed out, say)
            return "waiting"
    return "placed" if placed else "failed"


def cancel_unpaid(booking_id: str, *, now: datetime) -> int:
    """Cancel a booking whose failed payment was not fixed by its deadline: nothing was held, so
    nothing is charged or released; the owner and the walker are both told. 1 if cancelled."""
    with db.transaction() as conn:
        booking = holds.locked(conn, booking_id, skip_locked=True)
        if (
            booking is None
            or booking["payment_status"] != "failed"
            or booking["status"] not in OPEN
            or booking["payment_deadline"] > now
        ):
            return 0
        lifecycle.settle_cancellation(conn, booking_id, 0, actor_id=None, reason=UNPAID)
        # `transition` tells the owner of a cancellation by the platform; the walker hears too
        outbox.record(conn, "booking.cancelled", booking["walker_id"], "walker",
                      {"booking_id": booking_id, "from": booking["status"], "to": "cancelled",
                       "reason": UNPAID})  # fmt: skip
    return 1


UNPAID = "payment_failed"  # the reason of a cancellation for a payment not fixed in time


def change_payment_method(booking_id: str, owner_id: str, payment_method_id: str, *,
                          now: datetime | None = None) -> dict[str, Any]:  # fmt: skip
    """The owner gives another saved card for a booking whose payment is not held: `failed` (the
    hold declined), or `scheduled` (not yet due), or a walk in progress whose price could not be
    charged. The booking's view, with its price held at once on that card, or (scheduled and more
    than 5 days ahead) the card checked and kept for the hold to come. A decline is 402 and the
    booking stays as it was (`failed` keeps its deadline).

    A held payment (`authorized`) is 409 invalid_state rather than a switch: switching would void
    one hold and place another, two gateway calls between which a crash leaves the walk with no
    hold at all; a card that holds the price is not what needs fixing."""
    moment = now or datetime.now(UTC)
    require_id(booking_id, "booking")
    gateway_method = gateway.gateway_method(owner_id, payment_method_id)
    if gateway_method is None:
        raise ValidationFailed(
            "Use one of your saved payment methods.",
            errors=[{"loc": ["body", "payment_method_id"], "msg": "not one of your saved payment methods"}],
        )
    declined = False
    with db.transaction() as conn:
        booking = holds.locked(conn, booking_id, owner_id=owner_id)
        if booking is None:
            raise NotFound("No such booking.")
        if booking["status"] not in (*OPEN, "in_progress"):
            raise InvalidState(f"The payment of a {booking['status']} booking cannot change.")
        if booking["payment_status"] == "authorized":
            raise InvalidState("The price is held on the card already; cancel and book again to use another.")
        if booking["payment_status"] not in ("scheduled", "failed", "voided"):
            raise InvalidState(f"A {booking['payment_status']} payment cannot change.")
        if booking["payment_status"] == "scheduled" and not holds.due(booking["start_ts"], moment):
            gateway.check_saved_card(owner_id, gateway_method, valid_through=booking["start_ts"])
            conn.execute(
                "UPDATE bookings SET payment_method_id = %s, updated_at = now() WHERE id = %s",
                (payment_method_id, booking_id),
            )
        else:
            declined = not holds.place(conn, booking, now=moment, gateway_method=gateway_method,
                                       payment_method_id=payment_method_id)  # fmt: skip
    if declined:  # recorded (the attempt, the payment failed); the owner may try another card
        raise PaymentDeclined("The card was declined; try another.")
    return lifecycle.get(booking_id, owner_id, "owner")
