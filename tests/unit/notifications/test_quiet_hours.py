"""Quiet hours in the user's timezone: a day window, a window across midnight, an empty one, and
the nights the clocks change in New York — the end is the first instant the local clock reads
the end time, so 07:00 is 07:00 local whatever the offset was when the hours began."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dogwalk.notifications.preferences import Preferences, quiet_until

NEW_YORK = "America/New_York"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def ends(moment: datetime, start: str, end: str, zone: str = NEW_YORK) -> datetime | None:
    """The end in UTC: a local time the clocks show twice compares unequal to any instant of
    another zone (PEP 495), so `==` against UTC needs the conversion."""
    until = quiet_until(moment, time.fromisoformat(start), time.fromisoformat(end), zone)
    return None if until is None else until.astimezone(UTC)


# --- ordinary days ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "until"),
    [
        (utc(2026, 6, 10, 17, 0), utc(2026, 6, 10, 19, 30)),  # 13:00 EDT, the start: inside
        (utc(2026, 6, 10, 19, 29), utc(2026, 6, 10, 19, 30)),
        (utc(2026, 6, 10, 19, 30), None),  # 15:30, the end: outside
        (utc(2026, 6, 10, 16, 59), None),
        (utc(2026, 6, 11, 3, 0), None),  # 23:00 the evening before
    ],
)
def test_a_day_window_holds_from_its_start_to_its_end(moment: datetime, until: datetime | None) -> None:
    assert ends(moment, "13:00", "15:30") == until


def test_the_evening_part_of_a_window_across_midnight_ends_the_next_morning() -> None:
    assert ends(utc(2026, 6, 11, 3, 30), "22:00", "07:00") == utc(2026, 6, 11, 11, 0)  # 23:30 EDT on the 10th


def test_the_morning_part_of_a_window_across_midnight_ends_the_same_morning() -> None:
    assert ends(utc(2026, 6, 11, 9, 0), "22:00", "07:00") == utc(2026, 6, 11, 11, 0)  # 05:00 EDT


@pytest.mark.parametrize("moment", [utc(2026, 6, 10, 16, 0), utc(2026, 6, 11, 11, 0), utc(2026, 6, 11, 1, 59)])
def test_outside_a_window_across_midnight_nothing_waits(moment: datetime) -> None:
    assert ends(moment, "22:00", "07:00") is None  # 12:00, 07:00 (its end), 21:59


def test_the_end_is_in_the_users_zone_whatever_the_offset_of_the_moment() -> None:
    moment = datetime(2026, 6, 11, 0, 30, tzinfo=timezone(timedelta(hours=-3)))  # 12:30 in Tokyo

    until = quiet_until(moment, time(9), time(18), "Asia/Tokyo")

    assert until == datetime(2026, 6, 11, 18, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    assert until is not None and until.astimezone(UTC) == utc(2026, 6, 11, 9, 0)


@pytest.mark.parametrize("clock", ["00:00", "07:00", "22:00"])
def test_a_window_that_starts_where_it_ends_is_no_quiet_hours(clock: str) -> None:
    assert ends(utc(2026, 6, 10, 12, 0), clock, clock) is None


def test_preferences_without_quiet_hours_never_wait() -> None:
    assert Preferences(channels={}).quiet_until(utc(2026, 6, 11, 3, 30)) is None
    quiet = Preferences(channels={}, quiet_start=time(22), quiet_end=time(7), timezone=NEW_YORK)
    assert quiet.quiet_until(utc(2026, 6, 11, 3, 30)) == utc(2026, 6, 11, 11, 0)  # 23:30 EDT → 07:00 EDT


# --- 2026-11-01 in New York: 02:00 EDT becomes 01:00 EST, the hour from 01:00 is lived twice ---------


def test_quiet_hours_across_the_fall_back_end_at_seven_standard_time() -> None:
    # 01:30 EDT; the night is an hour longer than the clock says
    assert ends(utc(2026, 11, 1, 5, 30), "22:00", "07:00") == utc(2026, 11, 1, 12, 0)
    # from the evening before (22:30 EDT), the same end
    assert ends(utc(2026, 11, 1, 2, 30), "22:00", "07:00") == utc(2026, 11, 1, 12, 0)


def test_an_end_the_clocks_show_twice_is_the_showing_after_the_moment() -> None:
    assert ends(utc(2026, 11, 1, 5, 15), "00:00", "01:30") == utc(2026, 11, 1, 5, 30)  # 01:15 EDT → 01:30 EDT
    assert ends(utc(2026, 11, 1, 5, 45), "00:00", "01:30") is None  # 01:45 EDT
    # 01:15 EST: the clock reads inside the hours again, until it reads 01:30 again (not a past instant)
    assert ends(utc(2026, 11, 1, 6, 15), "00:00", "01:30") == utc(2026, 11, 1, 6, 30)


# --- 2026-03-08 in New York: 02:00 EST becomes 03:00 EDT, 02:00-02:59 never happens ---------------


def test_quiet_hours_across_the_spring_forward_end_at_three_daylight_time() -> None:
    # 01:30 EST in 01:00-03:00: the clock jumps from 02:00 to 03:00, so they end after half an hour
    assert ends(utc(2026, 3, 8, 6, 30), "01:00", "03:00") == utc(2026, 3, 8, 7, 0)


def test_an_end_the_clocks_skip_is_reached_when_they_jump_over_it() -> None:
    # 02:30 never happens that night: the hours end at the jump (03:00 EDT), the first instant the
    # clock reads past 02:30, not at 03:30 EDT (zoneinfo's reading of 02:30 with the EST offset),
    # when the clock would have said "not quiet" for half an hour already
    until = quiet_until(utc(2026, 3, 8, 6, 30), time(1), time(2, 30), NEW_YORK)

    assert until is not None and until.strftime("%Y-%m-%d %H:%M %Z") == "2026-03-08 03:00 EDT"
    assert until == utc(2026, 3, 8, 7, 0)
    assert ends(utc(2026, 3, 8, 6, 59, 59), "01:00", "02:30") == utc(2026, 3, 8, 7, 0)  # 01:59:59 EST
    assert ends(utc(2026, 3, 8, 7, 0), "01:00", "02:30") is None  # 03:00 EDT
    assert ends(utc(2026, 3, 8, 7, 10), "01:00", "02:30") is None


def test_across_the_spring_forward_the_evening_part_ends_at_seven_daylight_time() -> None:
    assert ends(utc(2026, 3, 8, 3, 0), "22:00", "07:00") == utc(2026, 3, 8, 11, 0)  # 22:00 EST → 07:00 EDT


# --- any night a clock changes ------------------------------------------------------------------

CHANGES = [  # (zone, one of its 2026 changes)
    ("America/New_York", utc(2026, 3, 8, 7)),
    ("America/New_York", utc(2026, 11, 1, 6)),
    ("Europe/London", utc(2026, 3, 29, 1)),
    ("Europe/London", utc(2026, 10, 25, 1)),
    ("Australia/Lord_Howe", utc(2026, 4, 4, 15)),  # a half-hour change
    ("Australia/Lord_Howe", utc(2026, 10, 3, 15, 30)),
]
clocks = st.integers(min_value=0, max_value=24 * 4 - 1).map(lambda quarter: time(quarter // 4, quarter % 4 * 15))


@st.composite
def nights(draw: st.DrawFn) -> tuple[datetime, time, time, str]:
    """A moment within 6 h of a change, and hours whose end is often in the hour the clocks skip
    or repeat."""
    zone, change = draw(st.sampled_from(CHANGES))
    moment = change + timedelta(minutes=draw(st.integers(min_value=-6 * 60, max_value=6 * 60)))
    near = change.astimezone(ZoneInfo(zone)) + timedelta(minutes=15 * draw(st.integers(min_value=-4, max_value=4)))
    end = draw(st.one_of(clocks, st.just(near.time().replace(second=0, microsecond=0))))
    return moment, draw(clocks), end, zone


@settings(max_examples=300)
@given(night=nights())
def test_the_end_is_after_the_moment_and_the_hours_hold_until_it(night: tuple[datetime, time, time, str]) -> None:
    moment, start, end, zone = night

    until = quiet_until(moment, start, end, zone)

    if until is not None:
        assert moment < until <= moment + timedelta(hours=25)
        # in UTC: arithmetic on a zone's datetime is wall-clock arithmetic, blind to the change
        assert quiet_until(until.astimezone(UTC) - timedelta(seconds=1), start, end, zone) is not None
