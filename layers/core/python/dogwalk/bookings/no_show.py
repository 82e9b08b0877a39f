"""Late and no-show walks, swept every minute: an accepted walk not started 15 minutes after its
start sends `walk.late` to the owner and the walker, once; one not started 60 minutes after is
cancelled at no cost to the owner (the hold released in full), both parties hear of it
(`booking.cancelled`, reason `no_show`) and it counts on the walker's profile.

Safe under concurrent runs and retries: `walk.late` is sent by the one UPDATE that sets the
booking's marker, and a cancellation happens under the booking's row lock (another run skips a
locked booking), after which the booking is no longer `accepted`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dogwalk.adapters import db
from dogwalk.adapters.observability import logger
from dogwalk.bookings import holds, lifecycle
from dogwalk.errors import Unavailable
from dogwalk.events import outbox
from dogwalk.payments import gateway

LATE_AFTER = timedelta(minutes=15)
NO_SHOW_AFTER = timedelta(minutes=60)
NO_SHOW = "no_show"  # the reason of a cancellation for a walk never started
BATCH = 500


def sweep(*, now: datetime | None = None) -> dict[str, int]:
    """One run at `now`: the late walks told, the no-shows cancelled; how many of each (and of the
    no-shows left for the next run because the payment gateway could not release the hold)."""
    moment = now or datetime.now(UTC)
    late = tell_late(moment)
    with db.transaction() as conn:
        due = [
            row["id"]
            for row in conn.execute(
                "SELECT id::text FROM bookings WHERE status = 'accepted' AND start_ts <= %s ORDER BY start_ts LIMIT %s",
                (moment - NO_SHOW_AFTER, BATCH),
            ).fetchall()
        ]
    outcomes = [cancel_no_show(booking_id, now=moment) for booking_id in due]
    return {"late": late, "no_shows": outcomes.count("cancelled"), "unreachable": outcomes.count("unreachable")}


def tell_late(now: datetime) -> int:
    """`walk.late` to both parties of each accepted walk 15 to 60 minutes past its start and not
    told yet; the marker is set by the same UPDATE, so a concurrent run finds nothing left."""
    with db.transaction() as conn:
        marked = conn.execute(
            "UPDATE bookings SET late_notified_at = %s"
            " WHERE status = 'accepted' AND late_notified_at IS NULL AND start_ts <= %s AND start_ts > %s"
            " RETURNING id::text, owner_id::text, walker_id::text, start_ts",
            (now, now - LATE_AFTER, now - NO_SHOW_AFTER),
        ).fetchall()
        for booking in marked:
            payload = {"booking_id": booking["id"], "start": booking["start_ts"].isoformat(),
                       "minutes_late": int((now - booking["start_ts"]).total_seconds() // 60)}  # fmt: skip
            outbox.record(conn, "walk.late", booking["owner_id"], "owner", payload)
            outbox.record(conn, "walk.late", booking["walker_id"], "walker", payload)
    return len(marked)


def cancel_no_show(booking_id: str, *, now: datetime) -> str:
    """Cancel one walk never started 60 minutes after its start: the hold voided at the gateway
    (the owner pays nothing), the cancellation recorded as the platform's, both parties told, the
    walker's no-show counted. `cancelled`; `waiting` (another run has it, or it started or was
    cancelled meanwhile); `unreachable` (the gateway is down: nothing changed, the next run tries)."""
    with db.transaction() as conn:
        booking = holds.locked(conn, booking_id, skip_locked=True)
        if booking is None or booking["status"] != "accepted" or booking["start_ts"] > now - NO_SHOW_AFTER:
            return "waiting"
        if booking["payment_status"] == "authorized":
            try:
                gateway.void(booking["payment_intent_id"])
            except Unavailable:
                logger.warning("payment gateway unreachable; the no-show waits", extra={"booking_id": booking_id})
                return "unreachable"
        lifecycle.settle_cancellation(conn, booking_id, 0, actor_id=None, reason=NO_SHOW)
        # `transition` tells the owner of a cancellation by the platform; the walker hears too
        outbox.record(conn, "booking.cancelled", booking["walker_id"], "walker",
                      {"booking_id": booking_id, "from": "accepted", "to": "cancelled", "reason": NO_SHOW})  # fmt: skip
        conn.execute("UPDATE walker_profiles SET no_shows = no_shows + 1 WHERE user_id = %s", (booking["walker_id"],))
    return "cancelled"
