"""When a booking's price is held on the owner's card, and what becomes of a hold that cannot be
placed.

Card networks let an uncaptured authorization live about 7 days and Stripe cancels an uncaptured
PaymentIntent after 7 days, while walks are booked up to 90 days ahead: so a walk is authorized at
most 5 days before its start (API.md, "When the hold is placed"). Within 5 days the hold is placed
at request time; further ahead the payment is `scheduled` and `scheduled_holds` places the hold
once the walk is 5 days away. A hold that fails leaves the payment `failed`, tells the owner and
the walker (`payment.failed`), and gives the owner 24 hours to give another card.

Every attempt at the gateway is numbered (`bookings.hold_attempts`) and keyed `hold:<booking>:<n>`:
an attempt whose answer was lost (a crash, a timeout) is found again by the next try, and only a
recorded outcome (a hold, a decline) moves on to a new key. The callers hold the booking's row
lock while the gateway is called and record the outcome in that transaction, as completion and
cancellation do, so that two runs never hold twice."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from dogwalk.adapters import db
from dogwalk.errors import PaymentDeclined, ValidationFailed
from dogwalk.events import outbox
from dogwalk.payments import gateway

# at most this long before the walk (a hold lives 7 days; 5 leaves the walk and its capture inside)
HOLD_AHEAD = timedelta(days=5)
# what the owner has to fix a failed payment (never past the walk's start)
FIX_WITHIN = timedelta(hours=24)


def due(start: datetime, now: datetime) -> bool:
    """The walk's hold may be placed now: it starts within 5 days."""
    return start - now <= HOLD_AHEAD


def fix_deadline(start: datetime, now: datetime) -> datetime:
    """When a payment failing `now` must be fixed: 24 h later, or at the walk's start if sooner (a
    walk is not walked unpaid); never before `now`."""
    return max(now, min(now + FIX_WITHIN, start))


_BOOKING = """
    SELECT b.id::text, b.owner_id::text, b.walker_id::text, b.status, b.start_ts, b.end_ts, b.price, b.currency,
           b.payment_method_id::text, pm.gateway_id AS gateway_method, b.payment_intent_id, b.payment_status,
           b.authorized_cents, b.captured_cents, b.hold_attempts, b.payment_deadline
      FROM bookings b LEFT JOIN payment_methods pm ON pm.id = b.payment_method_id
"""


def locked(conn: db.Connection, booking_id: str, *, owner_id: str | None = None,
           skip_locked: bool = False) -> dict[str, Any] | None:  # fmt: skip
    """The booking as placing a hold needs it, its row locked for the caller's transaction (of
    `owner_id` when given); None if there is none (or, `skip_locked`, another run holds it)."""
    wait = " SKIP LOCKED" if skip_locked else ""
    row: dict[str, Any] | None = conn.execute(
        _BOOKING + " WHERE b.id = %s AND (%s::uuid IS NULL OR b.owner_id = %s::uuid) FOR UPDATE OF b" + wait,
        (booking_id, owner_id, owner_id),
    ).fetchone()
    return row


def locked_by_intent(conn: db.Connection, intent_id: str) -> dict[str, Any] | None:
    """The booking whose current hold (or charge) is the PaymentIntent `intent_id`, locked."""
    row: dict[str, Any] | None = conn.execute(
        _BOOKING + " WHERE b.payment_intent_id = %s FOR UPDATE OF b", (intent_id,)
    ).fetchone()
    return row


def price_of(booking: dict[str, Any]) -> int:
    return int(booking["price"]["total_cents"])


def place(conn: db.Connection, booking: dict[str, Any], *, now: datetime, gateway_method: str | None = None,
          payment_method_id: str | None = None) -> bool:  # fmt: skip
    """Hold the booking's price with the next attempt (on its saved card, or on `gateway_method`,
    the owner's `payment_method_id`, which becomes the booking's if it holds); True when held. A
    card that declines (or that the gateway no longer accepts) is recorded by `fail` and answers
    False. The gateway unreachable (`Unavailable`) or still busy with this attempt (`Conflict`)
    propagates with nothing recorded: the next try repeats the same attempt, the same key.

    Off session always (the job's, the webhook's and the owner's fix alike), so that an attempt
    repeated by another caller sends what the first sent; another card skips an attempt number,
    since the next one may be an unrecorded try with the old card (Stripe refuses a key again with
    other parameters)."""
    method = gateway_method or booking["gateway_method"]
    attempt = booking["hold_attempts"] + (2 if method != booking["gateway_method"] else 1)
    try:
        if method is None:
            raise PaymentDeclined("The booking has no card to hold its price on.")
        intent = gateway.authorize(booking["owner_id"], method, price_of(booking), booking["currency"], booking["id"],
                                   attempt, off_session=True)  # fmt: skip
    except (PaymentDeclined, ValidationFailed):
        fail(conn, booking, attempt, now=now)
        return False
    conn.execute(
        "UPDATE bookings SET payment_status = 'authorized', payment_intent_id = %s, authorized_cents = %s,"
        " captured_cents = 0, refunded_cents = 0, hold_attempts = %s, payment_deadline = NULL,"
        " payment_method_id = coalesce(%s::uuid, payment_method_id), updated_at = now() WHERE id = %s",
        (intent, price_of(booking), attempt, payment_method_id, booking["id"]),
    )
    return True


def fail(conn: db.Connection, booking: dict[str, Any], attempt: int, *, now: datetime) -> None:
    """Record that attempt `attempt` declined: the payment is `failed`, nothing is held, and the
    owner has until the deadline to fix it. The first failure tells the owner and the walker; a
    failed fix keeps the deadline it had (trying another card does not buy more time)."""
    newly = booking["payment_status"] != "failed" or booking["payment_deadline"] is None
    deadline = fix_deadline(booking["start_ts"], now) if newly else booking["payment_deadline"]
    conn.execute(
        "UPDATE bookings SET payment_status = 'failed', authorized_cents = 0, captured_cents = 0, refunded_cents = 0,"
        " hold_attempts = %s, payment_deadline = %s, updated_at = now() WHERE id = %s",
        (attempt, deadline, booking["id"]),
    )
    if newly:
        told = {"booking_id": booking["id"], "amount_cents": price_of(booking), "currency": booking["currency"],
                "deadline": deadline.isoformat()}  # fmt: skip
        outbox.record(conn, "payment.failed", booking["owner_id"], "owner", told)
        outbox.record(conn, "payment.failed", booking["walker_id"], "walker", told)


def charge_unheld(conn: db.Connection, booking: dict[str, Any], amount_cents: int, *, now: datetime) -> int | None:
    """Charge `amount_cents` at once, off session, where the walk owes money and nothing is held
    (its hold was never placed, or the gateway cancelled it): place-and-capture rather than capture
    nothing. The amount charged, recorded as the booking's payment (authorized = captured, for the
    caller's settlement to post); None when the card declined (recorded by `fail`)."""
    attempt = booking["hold_attempts"] + 1
    try:
        if booking["gateway_method"] is None:
            raise PaymentDeclined("The booking has no card to charge.")
        # its own key space: attempt n may also be an unrecorded hold, which Stripe would not answer for a charge
        intent = gateway.charge(booking["owner_id"], booking["gateway_method"], amount_cents, booking["currency"],
                                key=f"charge:{booking['id']}:{attempt}",
                                metadata={"booking_id": booking["id"], "attempt": str(attempt)})  # fmt: skip
    except (PaymentDeclined, ValidationFailed):
        fail(conn, booking, attempt, now=now)
        return None
    conn.execute(
        "UPDATE bookings SET payment_intent_id = %s, authorized_cents = %s, captured_cents = 0, refunded_cents = 0,"
        " hold_attempts = %s, payment_deadline = NULL, updated_at = now() WHERE id = %s",
        (intent, amount_cents, attempt, booking["id"]),
    )
    return amount_cents
