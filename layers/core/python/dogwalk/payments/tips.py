"""Tips: once a walk is completed its owner may tip the walker, once. The tip is charged at once
on the booking's card and credited wholly to the walker in the ledger.

A tip is written `pending` before the gateway is called, with the attempt id that is the
gateway's idempotency key: a retry (or a concurrent double tap) of the same amount charges once,
and a charge whose answer was lost is settled by the gateway's `payment_intent.succeeded`
(see `webhooks`)."""

from __future__ import annotations

import uuid
from typing import Any

from dogwalk.adapters import db, faults
from dogwalk.errors import Conflict, InvalidState, NotFound, PaymentDeclined, require_id
from dogwalk.events import outbox
from dogwalk.payments import gateway, ledger

MIN_CENTS = 100
MAX_CENTS = 50_000


def tip(booking_id: str, owner_id: str, amount_cents: int) -> dict[str, Any]:
    """Charge the tip and credit it to the walker; 409 if the walk has one already."""
    require_id(booking_id, "booking")
    with db.transaction() as conn:
        booking = conn.execute(
            "SELECT b.status, b.walker_id::text, b.currency, m.gateway_id AS method"
            "  FROM bookings b JOIN payment_methods m ON m.id = b.payment_method_id"
            " WHERE b.id = %s AND b.owner_id = %s FOR UPDATE OF b",
            (booking_id, owner_id),
        ).fetchone()
        if booking is None:
            raise NotFound("No such booking.")
        if booking["status"] != "completed":
            raise InvalidState("Only a completed walk can be tipped.")
        earlier = conn.execute(
            "SELECT status, amount_cents, attempt::text FROM tips WHERE booking_id = %s", (booking_id,)
        ).fetchone()
        if earlier is not None and earlier["status"] == "succeeded":
            raise Conflict("This walk has its tip already.", code="already_tipped")
        if earlier is not None and earlier["status"] == "pending":
            if earlier["amount_cents"] != amount_cents:
                raise Conflict(
                    f"A tip of {earlier['amount_cents']} cents is being charged; retry with that amount.",
                    code="tip_in_progress",
                )
            attempt = earlier["attempt"]
        else:  # none yet, or the last one was declined: a new attempt
            attempt = str(uuid.uuid4())
            conn.execute(
                """
                INSERT INTO tips (booking_id, owner_id, walker_id, amount_cents, currency, status, attempt)
                VALUES (%s, %s, %s, %s, %s, 'pending', %s)
                ON CONFLICT (booking_id) DO UPDATE
                   SET amount_cents = EXCLUDED.amount_cents, status = 'pending', attempt = EXCLUDED.attempt,
                       updated_at = now()
                """,
                (booking_id, owner_id, booking["walker_id"], amount_cents, booking["currency"], attempt),
            )
    try:
        intent = gateway.charge(
            owner_id, booking["method"], amount_cents, booking["currency"],
            key=f"tip:{attempt}", metadata={"tip_for": booking_id, "attempt": attempt},
        )  # fmt: skip
    except PaymentDeclined:
        with db.transaction() as conn:
            fail(conn, booking_id, attempt)
        raise
    faults.point("tips.charged")
    with db.transaction() as conn:
        settle(conn, booking_id, attempt, intent)
    return view(booking_id)


def settle(conn: db.Connection, booking_id: str, attempt: str, intent_id: str) -> bool:
    """Record the charged tip in the caller's transaction (once: False if it was already)."""
    charged = conn.execute(
        "UPDATE tips SET status = 'succeeded', payment_intent_id = %s, updated_at = now()"
        " WHERE booking_id = %s AND attempt = %s AND status <> 'succeeded'"
        " RETURNING walker_id::text, amount_cents, currency",
        (intent_id, booking_id, attempt),
    ).fetchone()
    if charged is None:
        return False
    amount = charged["amount_cents"]
    conn.execute("UPDATE bookings SET tip_cents = %s WHERE id = %s", (amount, booking_id))
    ledger.post(
        conn,
        kind="tip",
        reference=f"tip:{booking_id}",
        description="tip",
        entries=[(ledger.GATEWAY_CLEARING, amount), (ledger.walker_payable(charged["walker_id"]), -amount)],
        currency=charged["currency"],
    )
    outbox.record(conn, "tip.received", charged["walker_id"], "walker",
                  {"booking_id": booking_id, "amount_cents": amount, "currency": charged["currency"]})  # fmt: skip
    return True


def fail(conn: db.Connection, booking_id: str, attempt: str) -> bool:
    """The attempt was declined: the owner may try again (another amount, another day)."""
    failed = conn.execute(
        "UPDATE tips SET status = 'failed', updated_at = now() WHERE booking_id = %s AND attempt = %s"
        " AND status = 'pending' RETURNING booking_id",
        (booking_id, attempt),
    ).fetchone()
    return failed is not None


def view(booking_id: str) -> dict[str, Any]:
    with db.transaction() as conn:
        row = conn.execute(
            "SELECT booking_id::text, amount_cents, currency, status, created_at FROM tips WHERE booking_id = %s",
            (booking_id,),
        ).fetchone()
    if row is None:  # unreachable after `tip`
        raise NotFound("No such tip.")
    return row
