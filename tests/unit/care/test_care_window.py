"""The walker's care window, a pure rule: an accepted or in-progress booking, from exactly 24 h
before its start (open) until its end (closed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dogwalk.care.visits import walker_may_read

START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
END = START + timedelta(minutes=45)
TICK = timedelta(microseconds=1)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (START - timedelta(hours=24) - TICK, False),
        (START - timedelta(hours=24), True),
        (START, True),
        (END - TICK, True),
        (END, False),
        (END + timedelta(days=1), False),
    ],
)
@pytest.mark.parametrize("status", ["accepted", "in_progress"])
def test_the_window_is_from_24_hours_before_the_start_until_the_end(status: str, now: datetime, expected: bool) -> None:
    assert walker_may_read(status, START, END, now) is expected


@pytest.mark.parametrize("status", ["requested", "declined", "expired", "cancelled", "completed"])
def test_no_other_state_opens_it(status: str) -> None:
    assert walker_may_read(status, START, END, START) is False
