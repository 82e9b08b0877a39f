"""Refunds by support (`POST /v1/admin/bookings/{id}/refund`): part or all of what is left of a
booking's captured amount, refunded at the gateway and posted at the platform's expense,

    platform:refunds  +amount   debit: the platform pays for it
    gateway:clearing  -amount   credit: the gateway gives it back to the card

(reference `support_refund:<id>`): the walker keeps their share, as with a refund made in the
gateway's dashboard (`webhooks._charge_refunded`). What is left is the captured amount less what
was refunded of it at the gateway (`charge_refunded_cents`, which the `charge.refunded` event's
`amount_refunded` is compared with), so the gateway's event for our own refund finds it recorded.

Crash safety, as tips have it: the refund is written `pending` and committed before the gateway
is called, and its id makes the gateway's idempotency key `refund:<booking>:<id>`; then the
booking row is locked while the gateway refunds, and the outcome recorded in that transaction.

- A retry (the same Idempotency-Key, or a new one with the same amount) takes the pending refund
  up again: the gateway answers the refund it made already, so it is refunded once and posted
  once. Another amount meanwhile is 409 `refund_in_progress`.
- The gateway's `charge.refunded` of our refund waits on the booking's lock and then finds it
  counted. If our commit was lost, the event settles the pending refund it finds among the
  gateway's refunds (by their metadata) as support's, not as a dashboard refund; a retry with the
  same Idempotency-Key then finds it done.
- The gateway unreachable: 503, nothing posted or changed but the pending attempt, which waits
  for the retry (whether the gateway made it is known only then). Refused by the gateway: the
  attempt is marked failed, 422.

A disputed payment is not refunded (409): the card network has the disputed money, and the
gateway refuses to refund a charge under dispute.
"""

from __future__ import annotations

import uuid
from typing import Any

from dogwalk.adapters import db, faults
from dogwalk.errors import Conflict, InvalidState, NotFound, ValidationFailed, require_id
from dogwalk.events import outbox
from dogwalk.payments import disputes, gateway, ledger

MAX_REASON = 500  # the gateway keeps it as metadata, whose values are at most 500 characters


def refund(booking_id: str, admin_id: str, amount_cents: int, reason: str, request_key: str | None = None) -> None:
    """Refund `amount_cents` of the booking's captured payment at the gateway and record it (once,
    however often retried); 404 unknown booking, 409 nothing captured or disputed, 422 too much."""
    require_id(booking_id, "booking")
    attempt = _attempt(booking_id, admin_id, amount_cents, reason, request_key)
    if attempt is None:
        return
    try:
        with db.transaction() as conn:
            booking = conn.execute(
                "SELECT payment_intent_id FROM bookings WHERE id = %s FOR UPDATE", (booking_id,)
            ).fetchone()
            pending = conn.execute(
                "SELECT id::text, amount_cents, currency, reason FROM support_refunds"
                " WHERE id = %s AND status = 'pending' FOR UPDATE",
                (attempt,),
            ).fetchone()
            if booking is None or pending is None:  # settled meanwhile: by a concurrent retry, or the event
                return
            made = gateway.refund(
                booking["payment_intent_id"], pending["amount_cents"], key=f"refund:{booking_id}:{attempt}",
                metadata={"booking_id": booking_id, "support_refund": attempt, "reason": pending["reason"]},
            )  # fmt: skip
            faults.point("payments.refunded")
            _settle(conn, booking_id, pending, made)
    except ValidationFailed:  # the gateway refused it: nothing was refunded, the next request is a new one
        with db.transaction() as conn:
            conn.execute(
                "UPDATE support_refunds SET status = 'failed', request_key = NULL, updated_at = now()"
                " WHERE id = %s AND status = 'pending'",
                (attempt,),
            )
        raise


def _attempt(booking_id: str, admin_id: str, amount_cents: int, reason: str, request_key: str | None) -> str | None:
    """The pending refund to make (a new one, or the one a dead request left); None when this
    request's refund is made already (its retry after the answer was lost)."""
    with db.transaction() as conn:
        booking = conn.execute(
            "SELECT captured_cents, charge_refunded_cents, payment_status, currency FROM bookings"
            " WHERE id = %s FOR UPDATE",
            (booking_id,),
        ).fetchone()
        if booking is None:
            raise NotFound("No such booking.")
        if request_key:
            earlier = conn.execute(
                "SELECT id::text, status, amount_cents FROM support_refunds"
                " WHERE booking_id = %s AND admin_id = %s AND request_key = %s",
                (booking_id, admin_id, request_key),
            ).fetchone()
            if earlier is not None and earlier["amount_cents"] != amount_cents:
                raise Conflict("This Idempotency-Key was used with another refund.", code="idempotency_conflict")
            if earlier is not None:
                return None if earlier["status"] == "succeeded" else str(earlier["id"])
        pending = conn.execute(
            "SELECT id::text, amount_cents FROM support_refunds WHERE booking_id = %s AND status = 'pending'",
            (booking_id,),
        ).fetchone()
        if pending is not None:
            if pending["amount_cents"] != amount_cents:
                raise Conflict(
                    f"A refund of {pending['amount_cents']} cents of this booking is being made;"
                    " retry with that amount, then refund more if need be.",
                    code="refund_in_progress",
                )
            return str(pending["id"])
        captured = booking["captured_cents"]
        if captured <= 0:
            raise InvalidState("Nothing was captured for this booking: there is nothing to refund.")
        if booking["payment_status"] == "disputed" or disputes.open_dispute_of(conn, booking_id):
            raise InvalidState("This payment is disputed: the card network holds the disputed money.")
        left = captured - booking["charge_refunded_cents"]
        if amount_cents > left:
            detail = f"Only {left} of the {captured} cents captured are left to refund."
            raise ValidationFailed(detail, errors=[{"loc": ["body", "amount_cents"], "msg": detail}])
        attempt = str(uuid.uuid4())
        conn.execute(
            "INSERT INTO support_refunds (id, booking_id, admin_id, amount_cents, currency, reason, request_key,"
            " status) VALUES (%s, %s, %s, %s, %s, %s, %s, 'pending')",
            (attempt, booking_id, admin_id, amount_cents, booking["currency"], reason[:MAX_REASON], request_key),
        )
    return attempt


def _settle(conn: db.Connection, booking_id: str, pending: dict[str, Any], gateway_id: str | None) -> bool:
    """Record a refund the gateway made, in the caller's transaction (the booking row locked):
    the booking's amounts and status, the ledger, the owner told. Once: False if it was already."""
    done = conn.execute(
        "UPDATE support_refunds SET status = 'succeeded', gateway_id = %s, updated_at = now()"
        " WHERE id = %s AND status = 'pending' RETURNING id",
        (gateway_id, pending["id"]),
    ).fetchone()
    if done is None:
        return False
    amount = pending["amount_cents"]
    booking = conn.execute(
        "UPDATE bookings SET charge_refunded_cents = charge_refunded_cents + %s, refunded_cents = refunded_cents + %s,"
        " payment_status = CASE WHEN charge_refunded_cents + %s >= captured_cents THEN 'refunded'"
        "                       ELSE 'partially_refunded' END"
        " WHERE id = %s RETURNING owner_id::text",
        (amount, amount, amount, booking_id),
    ).fetchone()
    ledger.post(
        conn,
        kind="refund",
        reference=f"support_refund:{pending['id']}",
        description="refunded by support",
        entries=[(ledger.REFUNDS, amount), (ledger.GATEWAY_CLEARING, -amount)],
        currency=pending["currency"],
    )
    if booking is not None:
        outbox.record(conn, "payment.refunded", booking["owner_id"], "owner",
                      {"booking_id": booking_id, "amount_cents": amount, "tip": False})  # fmt: skip
    return True


def absorb(conn: db.Connection, booking_id: str, intent_id: str, refunded_cents: int) -> int:
    """The gateway reports `refunded_cents` more refunded of the booking's charge than we recorded:
    the part of it that is our own refunds whose commit was lost (pending, and found among the
    gateway's refunds by their metadata), settled now as support's. The cents settled."""
    pending = conn.execute(
        "SELECT id::text, amount_cents, currency FROM support_refunds WHERE booking_id = %s AND status = 'pending'"
        " FOR UPDATE",
        (booking_id,),
    ).fetchall()
    if not pending:
        return 0
    made = {
        refund.metadata.to_dict().get("support_refund"): str(refund.id)
        for refund in gateway.refunds_of(intent_id)
        if refund.status not in ("failed", "canceled")  # a card's refund may be pending a while: it counts
    }
    settled = 0
    for attempt in pending:
        if attempt["id"] in made and attempt["amount_cents"] <= refunded_cents - settled:
            _settle(conn, booking_id, attempt, made[attempt["id"]])
            settled += attempt["amount_cents"]
    return settled
