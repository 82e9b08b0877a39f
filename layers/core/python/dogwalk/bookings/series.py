"""Weekly series (API.md, "Booking changes and series"): a series is the bookings one request made
(`series_id`), all of one owner and one walker. Its owner or its walker reads it, and either ends
it from a moment on: every walk of it starting then or later that is still requested or accepted
is cancelled through the one cancellation of a single booking (`lifecycle.cancel`: the same
policy, gateway calls and ledger postings), each in its own transaction, so that a walker ending
a series releases every hold in full and an owner pays what each walk's policy says.

Cancelling again is harmless: the walks cancelled before are listed as they are (their refund
being the price less what was charged), and a walk that cannot be cancelled any more (under way,
done) is listed as it is."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dogwalk.bookings import lifecycle
from dogwalk.errors import InvalidState, NotFound, require_id


def get(series_id: str, caller_id: str) -> dict[str, Any]:
    """The series and its walks by start time, for its owner or its walker; anyone else: not found."""
    require_id(series_id, "series")
    walks = lifecycle.in_series(series_id, caller_id)
    if not walks:
        raise NotFound("No such series.")
    return {"id": series_id, "owner_id": walks[0]["owner_id"], "walker_id": walks[0]["walker_id"], "bookings": walks}


def cancel(series_id: str, caller_id: str, since: datetime | None, reason: str | None = None, *,
           now: datetime | None = None) -> dict[str, Any]:  # fmt: skip
    """Cancel every walk of the series from `since` (default: now) on, each by the policy; the
    series with those walks, each with its `refund_cents`."""
    moment = now or datetime.now(UTC)
    start = since or moment
    found = get(series_id, caller_id)
    refunds: dict[str, int] = {}
    for walk in found["bookings"]:
        if walk["start"] < start or walk["status"] not in ("requested", "accepted"):
            continue
        try:
            cancelled = lifecycle.cancel(walk["id"], caller_id, reason or "series ended", now=moment)
        except InvalidState:  # started or cancelled meanwhile (another request ending the series)
            continue
        refunds[walk["id"]] = int(cancelled["refund_cents"])
    after = get(series_id, caller_id)
    ended = []
    for walk in after["bookings"]:
        if walk["start"] < start:
            continue
        refund = refunds.get(walk["id"])
        if refund is None and walk["status"] == "cancelled":  # cancelled before: the part not charged
            refund = int(walk["price"]["total_cents"]) - _captured(walk["id"], caller_id)
        ended.append({**walk, "refund_cents": refund})
    return {**after, "from": start, "bookings": ended}


def _captured(booking_id: str, caller_id: str) -> int:
    return int(lifecycle.payment_of(booking_id, caller_id, "owner")["captured_cents"])
