"""The payment gateway's events (`POST /v1/payments/webhook`): verified, then each event id
processed once, in the same transaction as what it changes, so that a replay is harmless and a
failure leaves the event to the gateway's next delivery.

They reconcile what our own calls may have left unrecorded (a Lambda that died after the
gateway answered): a tip charge becomes its tip; a declined tip is marked failed; a refund made
at the gateway (by support, in the dashboard) is posted to the ledger at the platform's expense;
a walker's payout transfer reversed at the gateway is posted back to what the walker is owed;
a dispute of a charge is recorded, posted and told to the admins (`disputes`).
Connect's events (`POST /v1/payments/connect/webhook`, about walkers' connected accounts) come
signed with that endpoint's own secret (`receive_connect`).
A booking's capture is the bookings service's to reconcile (`dogwalk.bookings.reconciliation`):
the caller passes the appliers, so that payments need not import bookings."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from dogwalk.adapters import db
from dogwalk.adapters.observability import logger
from dogwalk.events import outbox
from dogwalk.payments import connect, disputes, gateway, ledger, payouts, refunds, tips

Applier = Callable[[db.Connection, dict[str, Any]], str]


def receive(payload: str, signature: str, appliers: Mapping[str, Applier]) -> str:
    """Verify and apply one event with the applier of its type (none: ignored); what became of it
    (for the log and the answer)."""
    event = gateway.verified_event(payload, signature)
    with db.transaction() as conn:
        if not first_delivery(conn, event):
            outcome = "duplicate"
        else:
            subject = (event.get("data") or {}).get("object")
            apply = appliers.get(event["type"])
            outcome = apply(conn, subject) if apply and isinstance(subject, dict) else "ignored"
    logger.info("gateway event", extra={"event_id": event["id"], "event_type": event["type"], "outcome": outcome})
    return outcome


def receive_connect(payload: str, signature: str) -> str:
    """The Connect endpoint's events (`POST /v1/payments/connect/webhook`, about connected accounts):
    verified like the platform's but with that endpoint's own secret, each id applied once in the
    same table; `account.updated` updates our copy of the walker's account unless it is newer."""
    event = gateway.verified_event(payload, signature, connect=True)
    subject, created = (event.get("data") or {}).get("object"), event.get("created")
    with db.transaction() as conn:
        if not first_delivery(conn, event):
            outcome = "duplicate"
        elif event["type"] != "account.updated" or not isinstance(subject, dict):
            outcome = "ignored"
        else:
            at = created if isinstance(created, int) and not isinstance(created, bool) else int(time.time())
            outcome = connect.record(conn, subject, described_at=datetime.fromtimestamp(at, UTC))
    logger.info("connect event", extra={"event_id": event["id"], "event_type": event["type"],
                                        "account": event.get("account"), "outcome": outcome})  # fmt: skip
    return outcome


def first_delivery(conn: db.Connection, event: dict[str, Any]) -> bool:
    """Record the event's id in the caller's transaction; False if it was applied before (a
    replay). Every endpoint's events (the platform's, Connect's) share the table: Stripe's ids are unique."""
    fresh = conn.execute(
        "INSERT INTO webhook_events (id, type) VALUES (%s, %s) ON CONFLICT (id) DO NOTHING RETURNING id",
        (event["id"], event["type"]),
    ).fetchone()
    return fresh is not None


def cents_of(value: Any) -> int | None:
    """An amount of an event's object: a non-negative integer, or None."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def tip_succeeded(conn: db.Connection, intent: dict[str, Any]) -> str:
    """A tip's charge: its tip settled (once)."""
    metadata = intent.get("metadata") or {}
    settled = tips.settle(conn, str(metadata["tip_for"]), str(metadata.get("attempt")), str(intent.get("id")))
    return "tip settled" if settled else "already recorded"


def _intent_failed(conn: db.Connection, intent: dict[str, Any]) -> str:
    metadata = intent.get("metadata") or {}
    if metadata.get("tip_for"):
        failed = tips.fail(conn, str(metadata["tip_for"]), str(metadata.get("attempt")))
        return "tip failed" if failed else "already recorded"
    return "ignored"  # a booking's hold that fails is refused while the request waits (402)


def _charge_refunded(conn: db.Connection, charge: dict[str, Any]) -> str:
    """A refund made at the gateway. The charge's `amount_refunded` also counts what a partial
    capture released (never captured, never ours): only the rest is a refund to record."""
    intent_id, refunded = charge.get("payment_intent"), cents_of(charge.get("amount_refunded"))
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
    if booking is not None and more > 0:  # our own refund whose commit was lost is support's, not the dashboard's
        more -= refunds.absorb(conn, booking["id"], intent_id, more)
        if more <= 0:
            return "support refund recorded"
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


# the payments service's own appliers; the bookings service adds what reconciles a booking
# (`dogwalk.bookings.reconciliation.APPLIERS`, what the webhook's handler applies)
APPLIERS: dict[str, Applier] = {
    "payment_intent.payment_failed": _intent_failed,
    "charge.refunded": _charge_refunded,
    "transfer.reversed": payouts.transfer_reversed,
    # every dispute event carries the whole dispute: one applier, whatever their order (`disputes`)
    "charge.dispute.created": disputes.dispute_changed,
    "charge.dispute.updated": disputes.dispute_changed,
    "charge.dispute.closed": disputes.dispute_changed,
}
