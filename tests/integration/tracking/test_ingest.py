"""Ingest on real PostgreSQL: filters, idempotent redelivery, late points placed in time order,
the summary kept incrementally and equal to the route's length read in time order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

from dogwalk.tracking import ingest
from tests.integration.bookings.conftest import database_url
from tests.integration.marketplace.conftest import rows
from tests.integration.tracking.conftest import Walk


def track(start: datetime, count: int, step_s: int = 5) -> list[ingest.Point]:
    """A walk north along Broadway at about 1.4 m/s (5 km/h)."""
    return [ingest.Point(start + timedelta(seconds=i * step_s), 40.7560 + i * 0.0000630, -73.9860, 5.0)
            for i in range(count)]  # fmt: skip


def route_length(walk_id: str) -> float:
    points = rows(database_url(), "SELECT lat, lon FROM walk_points WHERE walk_id = %s ORDER BY ts", walk_id)
    return sum(ingest.distance_m(a["lat"], a["lon"], b["lat"], b["lon"]) for a, b in pairwise(points))


def summary(walk_id: str) -> dict:
    return rows(database_url(), "SELECT distance_m, points, dropped, events, last_ts FROM walks WHERE id = %s",
                walk_id)[0]  # fmt: skip


def test_points_in_order_out_of_order_and_again_make_one_route(walk: Walk) -> None:
    start = datetime.now(UTC).replace(microsecond=0)
    points = track(start, 40)
    in_order, late = points[::2], points[1::2]

    later = start + timedelta(minutes=5)  # the points are in the past by then
    ingest.ingest(walk.id, in_order, now=later)
    ingest.ingest(walk.id, late, now=later)
    again = ingest.ingest(walk.id, points, now=later)

    assert again is not None and again.accepted == [] and again.dropped["duplicate"] == 40
    kept = summary(walk.id)
    assert kept["points"] == 40
    assert abs(kept["distance_m"] - route_length(walk.id)) < 1e-6
    assert abs(kept["distance_m"] - ingest.distance_m(points[0].lat, points[0].lon, points[-1].lat,
                                                        points[-1].lon)) < 0.01  # fmt: skip
    assert kept["last_ts"] == points[-1].ts


def test_bad_points_are_dropped_and_counted_by_reason(walk: Walk) -> None:
    start = datetime.now(UTC).replace(microsecond=0)
    good = track(start, 3)
    inaccurate = ingest.Point(start + timedelta(seconds=20), 40.757, -73.986, 150.0)
    too_early = ingest.Point(start - timedelta(hours=2), 40.757, -73.986, 5.0)
    jump = ingest.Point(good[-1].ts + timedelta(seconds=10), 40.80, -73.986, 5.0)  # 5 km in 10 s

    outcome = ingest.ingest(walk.id, [*good, inaccurate, too_early, jump, good[0]], malformed=2)

    assert outcome is not None and len(outcome.accepted) == 3
    assert dict(outcome.dropped) == {"inaccurate": 1, "outside_walk": 1, "too_fast": 1, "duplicate": 1, "malformed": 2}
    assert summary(walk.id)["dropped"] == dict(outcome.dropped)


def test_events_are_counted_once(walk: Walk) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    pee = ingest.WalkEvent(now, "pee", 40.757, -73.986)

    ingest.ingest(walk.id, [], [pee, ingest.WalkEvent(now, "water")])
    ingest.ingest(walk.id, [], [pee])

    assert summary(walk.id)["events"] == {"pee": 1, "water": 1}
