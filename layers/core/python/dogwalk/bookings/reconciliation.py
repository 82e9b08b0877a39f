"""The payment gateway's events that finish what a booking's own call may have left unrecorded (a
Lambda that died after the gateway answered): a capture becomes the completion or the late
cancellation it was made for. Applied by the payments service's webhook (`webhooks.receive`), in
the transaction that records the event, with the payments service's own appliers."""

from __future__ import annotations

from typing import Any

from dogwalk.adapters import db
from dogwalk.adapters.observability import logger
from dogwalk.bookings import lifecycle
from dogwalk.payments import webhooks


def intent_succeeded(conn: db.Connection, intent: dict[str, Any]) -> str:
    if (intent.get("metadata") or {}).get("tip_for"):
        return webhooks.tip_succeeded(conn, intent)
    booking = conn.execute(
        "SELECT id::text, owner_id::text, status, payment_status FROM bookings WHERE payment_intent_id = %s FOR UPDATE",
        (intent.get("id"),),
    ).fetchone()
    if booking is None:
        return "unknown payment"
    if booking["payment_status"] != "authorized":
        return "already recorded"
    captured = webhooks.cents_of(intent.get("amount_received")) or webhooks.cents_of(intent.get("amount"))
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


# every event the webhook applies: the payments service's, and the bookings' reconciliation
APPLIERS: dict[str, webhooks.Applier] = {**webhooks.APPLIERS, "payment_intent.succeeded": intent_succeeded}
