"""The payment gateway's events (`POST /v1/payments/webhook`): verified, then each event id
processed once, in the same transaction as what it changes, so that a replay is harmless and a
failure leaves the event to the gateway's next delivery.

They reconcile what our own calls may have left unrecorded (a Lambda that died after the
gateway answered): a capture becomes the completion or cancellation it was made for, a tip
charge its tip; a declined tip is marked failed; a refund made at the gateway (by support, in
the dashboard) is posted to the ledger at the platform's expense."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dogwalk.adapters import db
from dogwalk.adapters.observability import logger
from dogwalk.bookings import lifecycle
from dogwalk.events import outbox
from dogwalk.payments import gateway, ledger, tips


def receive(payload: str, signature: str) -> str:
    """Verify and apply one event; what became of it (for the log and the answer)."""
    event = gateway.verified_event(payload, signature)
    with db.transaction() as conn:
        fresh = conn.execute(
            "INSERT INTO webhook_events (id, type) VALUES (%s, %s) ON CONFLICT (id) DO NOTHING RETURNING id",
            (event["id"], event["type"]),
        ).fetchone()
        if fresh is None:
            outcome = "duplicate"
        else:
            subject = (event.get("data") or {}).get("object")
            apply = HANDLERS.get(event["type"])
            outcome = apply(conn, subject) if apply and isinstance(subject, dict) else "ignored"
    logger.info("gateway event", extra={"event_id": event["id"], "event_type": event["type"], "outcome": outcome})
    return outcome


def _cents(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _intent_succeeded(conn: db.Connection, intent: dict[str, Any]) -> str:
    metadata = intent.get("metadata") or {}
    if metadata.get("tip_for"):
        settled = tips.settle(conn, str(metadata["tip_for"]), str(metadata.get("attempt")), str(intent.get("id")))
        return "tip settled" if settled else "already recorded"
    booking = conn.execute(
        "SELECT id::text, owner_id::text, status, payment_status FROM bookings WHERE payment_intent_id = %s FOR UPDATE",
        (intent.get("id"),),
    ).fetchone()
    if booking is None:
        return "unknown payment"
    if booking["payment_status"] != "authorized":
        return "already recorded"
    captured = _cents(intent.get("amount_received")) or _cents(intent.get("amount"))
    if not captured:
        return "ignored"
    if booking["status"] == "in_progress":  # `complete` captured, then died before its commit
        lifecycle.settle_completion(conn, booking["id"], captured, actor_id=None)
        return "completion reconciled"
    if booking["status"] in ("requested", "accepted"):  # an owner's late cancellation, likewise
        lifecycle.settle_cancellation(conn, booking["id"], captured, actor_id=booking["owner_id"],
                                     reason="recorded from the payment gateway")  # fmt: skip
        return "cancellation reconciled"
    logger.warning("captured payment of a booking that cannot be charged", extra={"booking_id": booking["id"]})
    return "needs review"


def _intent_failed(conn: db.Connection, intent: dict[str, Any]) -> str:
    metadata = intent.get("metadata") or {}
    if metadata.get("tip_for"):
        failed = tips.fail(conn, str(metadata["tip_for"]), str(metadata.get("attempt")))
        return "tip failed" if failed else "already recorded"
    return "ignored"  # a booking's hold that fails is refused while the request waits (402)


def _charge_refunded(conn: db.Connection, charge: dict[str, Any]) -> str:
    """A refund made at the gateway. The charge's `amount_refunded` also counts what a partial
    capture released (never captured, never ours): only the rest is a refund to record."""
    intent_id, refunded = charge.get("payment_intent"), _cents(charge.get("amount_refunded"))
    if not intent_id or refunded is None:
        return "ignored"
    booking = conn.execute(
        "SELECT id::text, owner_id::text, authorized_cents - captured_cents AS released,"
        "       charge_refunded_cents AS recorded FROM bookings"
        " WHERE payment_intent_id = %s AND captured_cents > 0 FOR UPDATE",
        (intent_id,),
    ).fetchone()
    tip = None
    if booking is None:
        tip = conn.execute(
            "SELECT booking_id::text AS id, owner_id::text, 0 AS released, refunded_cents AS recorded FROM tips"
            " WHERE payment_intent_id = %s AND status = 'succeeded' FOR UPDATE",
            (intent_id,),
        ).fetchone()
    subject = booking or tip
    if subject is None:
        return "unknown payment"
    of_captured = refunded - subject["released"]
    more = of_captured - subject["recorded"]
    if more <= 0:
        return "already recorded"
    if booking is not None:
        conn.execute(
            "UPDATE bookings SET charge_refunded_cents = %s, refunded_cents = refunded_cents + %s,"
            " payment_status = CASE WHEN %s >= captured_cents THEN 'refunded' ELSE 'partially_refunded' END"
            " WHERE id = %s",
            (of_captured, more, of_captured, booking["id"]),
        )
    else:
        conn.execute("UPDATE tips SET refunded_cents = %s WHERE payment_intent_id = %s", (of_captured, intent_id))
    ledger.post(
        conn,
        kind="refund",
        reference=f"refund:{intent_id}:{of_captured}",
        description="refunded at the gateway",
        entries=[(ledger.REFUNDS, more), (ledger.GATEWAY_CLEARING, -more)],
    )
    outbox.record(conn, "payment.refunded", subject["owner_id"], "owner",
                  {"booking_id": subject["id"], "amount_cents": more, "tip": tip is not None})  # fmt: skip
    return "refund recorded"


HANDLERS: dict[str, Callable[[db.Connection, dict[str, Any]], str]] = {
    "payment_intent.succeeded": _intent_succeeded,
    "payment_intent.payment_failed": _intent_failed,
    "charge.refunded": _charge_refunded,
}
