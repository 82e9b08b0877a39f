"""Each user's notification preferences: for every event type the channels it goes to, and quiet
hours in the user's timezone, during which push and SMS wait (the inbox and email do not).

The in-app inbox always gets every event. The defaults, for what a user never set: push for
everything, email for money and verification events and the walk's report card, SMS for the three events worth a text
(booking accepted or cancelled, walk started) when the user has a phone number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from psycopg.types.json import Jsonb

from dogwalk.adapters import db
from dogwalk.events.outbox import EVENT_TYPES
from dogwalk.notifications.registry import SMS_EVENTS

CHANNELS = ("push", "email", "sms")  # the choosable ones; the inbox always gets everything
EMAILED_BY_DEFAULT = frozenset(
    {
        "walk.completed",
        "payment.captured",
        "payment.refunded",
        "payout.sent",
        "tip.received",
        "verification.decided",
        "payment.disputed",
        "payment.failed",
    }
)
HELD_BY_QUIET_HOURS = frozenset({"push", "sms"})


def default_channels(event_type: str) -> list[str]:
    chosen = ["push"]
    if event_type in EMAILED_BY_DEFAULT:
        chosen.append("email")
    if event_type in SMS_EVENTS:
        chosen.append("sms")
    return chosen


@dataclass(frozen=True)
class Preferences:
    channels: dict[str, list[str]]  # every event type, defaults filled in
    quiet_start: time | None = None
    quiet_end: time | None = None
    timezone: str = "UTC"
    chosen: dict[str, list[str]] = field(default_factory=dict)  # what the user set themselves

    def wants(self, event_type: str, channel: str) -> bool:
        return channel == "inbox" or channel in self.channels.get(event_type, default_channels(event_type))

    def quiet_until(self, moment: datetime) -> datetime | None:
        """When this user's quiet hours around `moment` end, in UTC (safe to compare and store)."""
        if self.quiet_start is None or self.quiet_end is None:
            return None
        until = quiet_until(moment, self.quiet_start, self.quiet_end, self.timezone)
        return until.astimezone(UTC) if until else None


def of(user_id: str, conn: db.Connection | None = None) -> Preferences:
    if conn is None:
        with db.transaction() as own:
            return of(user_id, own)
    row = conn.execute(
        "SELECT channels, quiet_start, quiet_end, timezone FROM notification_preferences WHERE user_id = %s",
        (user_id,),
    ).fetchone()
    chosen: dict[str, list[str]] = dict(row["channels"]) if row else {}
    channels = {event: list(chosen.get(event, default_channels(event))) for event in EVENT_TYPES}
    if row is None:
        return Preferences(channels)
    return Preferences(channels, row["quiet_start"], row["quiet_end"], row["timezone"], chosen)


def save(user_id: str, chosen: dict[str, list[str]], quiet: tuple[time, time] | None, timezone: str) -> Preferences:
    """Replace the user's preferences (event types not named keep the defaults)."""
    with db.transaction() as conn:
        conn.execute(
            """
            INSERT INTO notification_preferences (user_id, channels, quiet_start, quiet_end, timezone)
            VALUES (%s, %s, %s, %s, %s)
            ON CONFLICT (user_id) DO UPDATE SET channels = EXCLUDED.channels, quiet_start = EXCLUDED.quiet_start,
                quiet_end = EXCLUDED.quiet_end, timezone = EXCLUDED.timezone, updated_at = now()
            """,
            (user_id, Jsonb(chosen), quiet[0] if quiet else None, quiet[1] if quiet else None, timezone),
        )
        return of(user_id, conn)


def quiet_until(moment: datetime, start: time, end: time, timezone: str) -> datetime | None:
    """When the quiet hours [start, end) in `timezone` that contain `moment` end, or None if
    `moment` is not in them. Hours may wrap midnight (22:00 to 07:00); wall-clock times are read in
    the zone on the day they fall, so a DST change in between is honoured (07:00 is 07:00 local,
    whatever the offset the evening before). The end is always after `moment`, and is the first
    instant at which the clock reads `end` or later (see `_clock_reaches`)."""
    if start == end:
        return None
    zone = ZoneInfo(timezone)
    local = moment.astimezone(zone)
    clock = local.time().replace(tzinfo=None)
    if start < end:
        inside, end_day = start <= clock < end, local.date()
    else:  # wraps midnight: the evening part ends tomorrow, the morning part today
        inside = clock >= start or clock < end
        end_day = local.date() + timedelta(days=1) if clock >= start else local.date()
    if not inside:
        return None
    return _clock_reaches(datetime.combine(end_day, end), zone, after=moment)


def _clock_reaches(wall: datetime, zone: ZoneInfo, *, after: datetime) -> datetime:
    """The first instant after `after` at which the clock in `zone` reads `wall` or later.

    On a spring-forward night a wall time the clocks skip (02:30 in New York on 2026-03-08) is
    reached when they jump over it (03:00 EDT), not at zoneinfo's reading of it (03:30 EDT, half an
    hour after the hours ended by the clock's own account). On a fall-back night a wall time the
    clocks show twice (01:30 on 2026-11-01) is its first showing, or its second if `after` is past
    the first (the user is in the repeated hour)."""
    earlier_offset = wall.replace(tzinfo=zone, fold=0)  # a skipped time: read with the offset before the jump
    if earlier_offset.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != wall:  # skipped
        # the jump lies between the two readings; find its second (offsets change on whole seconds)
        before, reached = int(wall.replace(tzinfo=zone, fold=1).timestamp()), int(earlier_offset.timestamp())
        while reached - before > 1:
            middle = (before + reached) // 2
            if datetime.fromtimestamp(middle, zone).replace(tzinfo=None) >= wall:
                reached = middle
            else:
                before = middle
        return datetime.fromtimestamp(reached, zone)
    # instants compared in UTC: aware datetimes sharing a tzinfo compare by wall clock, ignoring fold
    if earlier_offset.astimezone(UTC) > after.astimezone(UTC):
        return earlier_offset
    return wall.replace(tzinfo=zone, fold=1).astimezone(UTC).astimezone(zone)


def as_view(preferences: Preferences) -> dict[str, Any]:
    quiet = None
    if preferences.quiet_start is not None and preferences.quiet_end is not None:
        quiet = {"start": preferences.quiet_start.strftime("%H:%M"), "end": preferences.quiet_end.strftime("%H:%M")}
    return {"channels": preferences.channels, "quiet_hours": quiet, "timezone": preferences.timezone}
