"""The payment gateway's events that finish what a booking's own call may have left unrecorded (a
Lambda that died after the gateway answered): a capture becomes the completion or the late
cancellation it was made for; and a hold the gateway cancelled is placed again while the walk is
ahead. Applied by the payments service's webhook (`webhooks.receive`), in the transaction that
records the event, with the payments service's own appliers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dogwalk.adapters import db
from dogwalk.adapters.observability import logger
from dogwalk.bookings import holds, lifecycle
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


def intent_canceled(conn: db.Connection, intent: dict[str, Any]) -> str:
    """A booking's hold cancelled at the gateway (it expired, or support cancelled it). While the
    walk is still ahead (requested or accepted, not ended) the hold is placed again, a new attempt
    with a new key, or the payment `failed` if that declines, as the job does (or `scheduled`
    again if the walk is more than 5 days away); otherwise nothing is held any more: `voided`
    (completion then charges the price at once). Only the booking's current hold counts: an
    event of an earlier one, of our own void, or a replay finds nothing to do."""
    booking = holds.locked_by_intent(conn, str(intent.get("id") or ""))
    if booking is None:
        return "unknown payment"
    if booking["payment_status"] != "authorized":
        return "already recorded"
    now = datetime.now(UTC)
    if booking["status"] in ("requested", "accepted") and now < booking["end_ts"]:
        if not holds.due(booking["start_ts"], now):
            conn.execute(
                "UPDATE bookings SET payment_status = 'scheduled', authorized_cents = 0, updated_at = now()"
                " WHERE id = %s",
                (booking["id"],),
            )
            return "hold scheduled again"
        return "hold placed again" if holds.place(conn, booking, now=now) else "hold failed"
    conn.execute(  # all of the hold went back, as when we release one
        "UPDATE bookings SET payment_status = 'voided', refunded_cents = authorized_cents - captured_cents,"
        " updated_at = now() WHERE id = %s",
        (booking["id"],),
    )
    return "hold released"


# every event the webhook applies: the payments service's, and the bookings' reconciliation
APPLIERS: dict[str, webhooks.Applier] = {
    **webhooks.APPLIERS,
    "payment_intent.succeeded": intent_succeeded,
    "payment_intent.canceled": intent_canceled,
}
