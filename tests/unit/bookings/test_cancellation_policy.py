"""The cancellation policy at its boundaries (time is a parameter, not the clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dogwalk.bookings.lifecycle import cancellation_charge

START = datetime(2027, 3, 3, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("ahead", "charge"),
    [
        (timedelta(days=3), 0),
        (timedelta(hours=24), 0),
        (timedelta(hours=24) - timedelta(seconds=1), 2200),
        (timedelta(hours=2), 2200),
        (timedelta(hours=2) - timedelta(seconds=1), 4400),
        (timedelta(minutes=5), 4400),
    ],
)
def test_an_owner_cancelling_an_accepted_walk_pays_by_how_far_ahead(ahead: timedelta, charge: int) -> None:
    assert cancellation_charge(4400, status="accepted", by_owner=True, start=START, now=START - ahead) == charge


def test_half_of_an_odd_total_rounds_up() -> None:
    assert (
        cancellation_charge(4401, status="accepted", by_owner=True, start=START, now=START - timedelta(hours=5)) == 2201
    )


def test_a_walker_cancelling_or_a_request_cancelled_costs_the_owner_nothing() -> None:
    late = START - timedelta(minutes=5)

    assert cancellation_charge(4400, status="accepted", by_owner=False, start=START, now=late) == 0
    assert cancellation_charge(4400, status="requested", by_owner=True, start=START, now=late) == 0
