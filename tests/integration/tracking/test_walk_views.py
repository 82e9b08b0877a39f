"""Reading a walk through HTTP on real PostgreSQL: its summary as ingested, its route as GeoJSON
(in time order, simplified within the tolerance asked), its report card as SVG (parsed, with the
numbers and names on it, user input escaped); for the booking's owner, walker or an admin only."""

from __future__ import annotations

import itertools
import math
import random
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dogwalk.tracking import ingest
from tests.conftest import Dependencies
from tests.integration.bookings.conftest import database_url
from tests.integration.conftest import Answer, Api, assert_problem
from tests.integration.marketplace.conftest import Caller, new_caller, rows, run_sql
from tests.integration.tracking.conftest import Walk

SVG = "{http://www.w3.org/2000/svg}"
ORIGIN = (40.7560, -73.9860)  # Broadway at 44th
METRES_PER_DEGREE = 111_195.0


def at(north_m: float, east_m: float) -> tuple[float, float]:
    """The position this many metres north and east of ORIGIN."""
    lat = ORIGIN[0] + north_m / METRES_PER_DEGREE
    return lat, ORIGIN[1] + east_m / (METRES_PER_DEGREE * math.cos(math.radians(ORIGIN[0])))


def track(start: datetime, count: int, step_s: int = 5) -> list[ingest.Point]:
    """North along Broadway at about 1.3 m/s."""
    return [ingest.Point(start + timedelta(seconds=i * step_s), *at(i * 6.5, 0), 5.0) for i in range(count)]


def zig_zag(start: datetime, seconds: int) -> list[ingest.Point]:
    """1 Hz for `seconds`: north at 1 m/s, crossing a 14 m wide park path every 10 s, GPS-jittered."""
    jitter = random.Random(7)
    points = []
    for s in range(seconds):
        leg, into = divmod(s, 10)
        east = 14 * (into / 10 if leg % 2 == 0 else 1 - into / 10)
        north, east = s + jitter.uniform(-0.3, 0.3), east + jitter.uniform(-0.3, 0.3)
        points.append(ingest.Point(start + timedelta(seconds=s), *at(north, east), 4.0))
    return points


def started_at(walk: Walk) -> datetime:
    return rows(database_url(), "SELECT started_at FROM walks WHERE id = %s", walk.id)[0]["started_at"]


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def ok(answer: Answer) -> Any:
    assert answer.status == 200, answer.body
    return answer.json()


def planar_m(a: tuple[float, float], b: tuple[float, float], lat0: float) -> tuple[float, float]:
    """b - a in metres (east, north): our own small-area measure, not the module's."""
    radius = 6_371_008.8
    return (
        math.radians(b[1] - a[1]) * radius * math.cos(math.radians(lat0)),
        math.radians(b[0] - a[0]) * radius,
    )


def off_segment_m(p: tuple[float, float], a: tuple[float, float], b: tuple[float, float], lat0: float) -> float:
    (px, py), (bx, by) = planar_m(a, p, lat0), planar_m(a, b, lat0)
    length2 = bx * bx + by * by
    t = 0.0 if length2 == 0 else max(0.0, min(1.0, (px * bx + py * by) / length2))
    return math.hypot(px - t * bx, py - t * by)


# --- the summary ---------------------------------------------------------------------------------


def test_the_summary_is_what_was_ingested(api: Api, walk: Walk) -> None:
    start = started_at(walk)
    points = track(start + timedelta(seconds=10), 30)
    late = ingest.Point(start - timedelta(hours=1), *ORIGIN, 5.0)
    events = [ingest.WalkEvent(points[3].ts, "pee", *at(20, 0)), ingest.WalkEvent(points[9].ts, "water")]
    ingest.ingest(walk.id, [*points, late, ingest.Point(points[0].ts, 0.0, 0.0, 500.0)], events,
                    now=points[-1].ts)  # fmt: skip
    stored = rows(database_url(), "SELECT distance_m FROM walks WHERE id = %s", walk.id)[0]["distance_m"]

    before = datetime.now(UTC)
    seen = ok(api.get(f"/v1/walks/{walk.id}", token=walk.owner.token))
    after = datetime.now(UTC)

    assert seen["id"] == walk.id and seen["booking_id"] == walk.booking_id
    assert seen["status"] == "in_progress"
    assert datetime.fromisoformat(seen["started_at"]) == start and seen["ended_at"] is None
    assert abs(seen["distance_m"] - stored) <= 0.05 and abs(seen["distance_m"] - 29 * 6.5) < 0.5
    assert seen["points"] == 30
    assert seen["events"] == {"pee": 1, "poo": 0, "water": 1, "food": 0, "photo": 0, "note": 0}
    assert seen["dropped"] == {"outside_walk": 1, "inaccurate": 1}
    assert seen["last_position"] == {"lat": points[-1].lat, "lon": points[-1].lon, "tst": epoch(points[-1].ts)}
    # under way: the duration runs to now
    assert int((before - start).total_seconds()) <= seen["duration_s"] <= math.ceil((after - start).total_seconds())
    assert seen["pace_min_per_km"] == round(seen["duration_s"] / 60 / (stored / 1000), 2)


def test_a_walk_without_points_has_no_position_nor_pace(api: Api, walk: Walk) -> None:
    seen = ok(api.get(f"/v1/walks/{walk.id}", token=walk.walker.token))

    assert (seen["distance_m"], seen["points"], seen["dropped"]) == (0, 0, {})
    assert seen["last_position"] is None and seen["pace_min_per_km"] is None
    assert seen["events"] == dict.fromkeys(ingest.EVENT_TYPES, 0)


def test_a_completed_walk_lasts_from_its_start_to_its_end(api: Api, walk: Walk) -> None:
    ingest.ingest(walk.id, track(started_at(walk), 10))
    assert api.post(f"/v1/bookings/{walk.booking_id}/complete", token=walk.walker.token).status == 200

    seen = ok(api.get(f"/v1/walks/{walk.id}", token=walk.owner.token))

    assert seen["status"] == "completed"
    ended = datetime.fromisoformat(seen["ended_at"])
    assert seen["duration_s"] == int((ended - datetime.fromisoformat(seen["started_at"])).total_seconds())


# --- who may look --------------------------------------------------------------------------------

VIEWS = ("", "/route", "/report.svg", "/route.gpx")


def test_the_owner_the_walker_and_an_admin_see_every_view(api: Api, walk: Walk, admin: Caller) -> None:
    for caller in (walk.owner, walk.walker, admin):
        for view in VIEWS:
            answer = api.get(f"/v1/walks/{walk.id}{view}", token=caller.token)
            assert answer.status == 200, (caller.role, view, answer.body)


def test_anyone_else_and_unknown_or_malformed_ids_get_the_same_404(api: Api, state: Dependencies, walk: Walk) -> None:
    strangers = (new_caller(state, "owner"), new_caller(state, "walker"))
    for view in VIEWS:
        for stranger in strangers:
            assert_problem(api.get(f"/v1/walks/{walk.id}{view}", token=stranger.token), 404, "not_found")
        for missing in ("8f0e6f1c-1111-4c59-9d8e-0a6f3b1c2d4e", "not-a-walk", walk.booking_id):
            assert_problem(api.get(f"/v1/walks/{missing}{view}", token=walk.owner.token), 404, "not_found")


def test_a_caller_without_a_token_is_refused(api: Api, walk: Walk) -> None:
    for view in VIEWS:
        assert api.get(f"/v1/walks/{walk.id}{view}").status == 401


# --- the route -----------------------------------------------------------------------------------


def route(api: Api, walk: Walk, **query: Any) -> dict[str, Any]:
    suffix = "?" + "&".join(f"{name}={value}" for name, value in query.items()) if query else ""
    answer = api.get(f"/v1/walks/{walk.id}/route{suffix}", token=walk.owner.token)
    assert answer.headers["content-type"].startswith("application/json")
    collection: dict[str, Any] = ok(answer)
    assert collection["type"] == "FeatureCollection"
    return collection


def line_of(collection: dict[str, Any]) -> dict[str, Any]:
    lines = [f for f in collection["features"] if f["geometry"] and f["geometry"]["type"] == "LineString"]
    assert len(lines) == 1
    return lines[0]


def test_the_route_is_a_line_in_time_order_even_after_points_arrived_out_of_order(api: Api, walk: Walk) -> None:
    points = track(started_at(walk) + timedelta(seconds=5), 40)
    later = points[-1].ts + timedelta(minutes=1)
    ingest.ingest(walk.id, points[::2], now=later)
    ingest.ingest(walk.id, list(reversed(points[1::2])), now=later)

    line = line_of(route(api, walk))

    assert line["type"] == "Feature"
    assert line["geometry"]["coordinates"] == [[round(p.lon, 6), round(p.lat, 6)] for p in points]  # [lon, lat]
    distance = ok(api.get(f"/v1/walks/{walk.id}", token=walk.owner.token))["distance_m"]
    assert line["properties"] == {"walk_id": walk.id, "points": 40, "simplified_points": 40, "distance_m": distance}


def test_a_two_hour_zig_zag_simplifies_to_far_fewer_points_within_the_tolerance(api: Api, walk: Walk) -> None:
    points = zig_zag(started_at(walk) + timedelta(seconds=1), 2 * 3600)
    outcome = ingest.ingest(walk.id, points, now=points[-1].ts)
    assert outcome is not None and len(outcome.accepted) == 7200
    full = line_of(route(api, walk))["geometry"]["coordinates"]

    for tolerance in (2.0, 5.0, 20.0):
        line = line_of(route(api, walk, simplify_m=tolerance))
        simplified = line["geometry"]["coordinates"]

        assert line["properties"]["points"] == 7200
        assert line["properties"]["simplified_points"] == len(simplified) < 7200 / 4
        assert simplified[0] == full[0] and simplified[-1] == full[-1]
        index = {tuple(position): i for i, position in reversed(list(enumerate(full)))}
        kept = [index[tuple(position)] for position in simplified]  # a subsequence of the route, in order
        assert kept == sorted(kept)
        lat0 = sum(lat for _, lat in full) / len(full)
        for first, last in itertools.pairwise(kept):
            a, b = full[first][::-1], full[last][::-1]
            # coordinates come rounded to 6 decimals (~0.1 m): that much slack, no more
            assert all(off_segment_m(full[i][::-1], a, b, lat0) <= tolerance + 0.15 for i in range(first, last))
    assert len(line_of(route(api, walk, simplify_m=1000))["geometry"]["coordinates"]) == 2  # a straight-ish 7 km


def test_walk_events_are_points_where_they_happened(api: Api, walk: Walk) -> None:
    points = track(started_at(walk) + timedelta(seconds=5), 20)
    events = [
        ingest.WalkEvent(points[2].ts, "poo", *at(13, 2), None),
        ingest.WalkEvent(points[5].ts, "note", *at(32.5, 0), 'Met "Bella" <3 & played'),
        ingest.WalkEvent(points[11].ts + timedelta(seconds=1), "water"),  # no fix: where the walk was
    ]
    ingest.ingest(walk.id, points, events, now=points[-1].ts)

    found = [f for f in route(api, walk)["features"] if f["geometry"] is None or f["geometry"]["type"] == "Point"]

    assert [f["properties"] for f in found] == [
        {"type": "poo", "tst": epoch(points[2].ts), "note": None, "photo_id": None},
        {"type": "note", "tst": epoch(points[5].ts), "note": 'Met "Bella" <3 & played', "photo_id": None},
        {"type": "water", "tst": epoch(points[11].ts) + 1, "note": None, "photo_id": None},
    ]
    positions = [at(13, 2), at(32.5, 0), (points[11].lat, points[11].lon)]
    assert [f["geometry"]["coordinates"] for f in found] == [[round(lon, 6), round(lat, 6)] for lat, lon in positions]


def test_an_empty_route_has_no_line_geometry(api: Api, walk: Walk) -> None:
    ingest.ingest(walk.id, [], [ingest.WalkEvent(started_at(walk) + timedelta(seconds=3), "pee")])

    features = route(api, walk)["features"]

    assert features[0]["geometry"] is None
    assert features[0]["properties"] == {"walk_id": walk.id, "points": 0, "simplified_points": 0, "distance_m": 0}
    assert features[1]["geometry"] is None  # RFC 7946 3.2: an unlocated feature
    assert (features[1]["properties"]["type"], features[1]["properties"]["note"]) == ("pee", None)


def test_a_tolerance_outside_0_to_1000_metres_is_a_422(api: Api, walk: Walk) -> None:
    for value in ("-1", "1000.5", "many", "nan", "inf"):
        answer = api.get(f"/v1/walks/{walk.id}/route?simplify_m={value}", token=walk.owner.token)
        body = assert_problem(answer, 422, "validation_error")
        assert any("simplify_m" in error["loc"] for error in body["errors"]), value


# --- the report card -----------------------------------------------------------------------------


def card(api: Api, walk: Walk) -> tuple[ET.Element, str]:
    answer = api.get(f"/v1/walks/{walk.id}/report.svg", token=walk.owner.token)
    assert answer.status == 200, answer.body
    assert answer.headers["content-type"].startswith("image/svg+xml")
    document = answer.body.decode()
    root = ET.fromstring(document)  # noqa: S314 - our own endpoint's output
    assert root.tag == f"{SVG}svg"
    return root, document


def texts(root: ET.Element) -> list[str]:
    return ["".join(element.itertext()) for element in root.iter(f"{SVG}text")]


def test_the_report_card_draws_the_route_and_states_the_numbers_and_names(api: Api, walk: Walk) -> None:
    start = started_at(walk)
    points = track(start + timedelta(seconds=5), 120)  # 10 minutes, 773.5 m
    ingest.ingest(walk.id, points, [ingest.WalkEvent(points[40].ts, "pee", points[40].lat, points[40].lon)],
                    now=points[-1].ts)  # fmt: skip
    run_sql(database_url(), "UPDATE users SET name = 'Alex Morgan' WHERE id = %s", walk.walker.id)
    assert api.post(f"/v1/bookings/{walk.booking_id}/complete", token=walk.walker.token).status == 200
    summary = ok(api.get(f"/v1/walks/{walk.id}", token=walk.owner.token))

    root, _ = card(api, walk)

    written = texts(root)
    assert "Biscuit" in written  # the dog of the booking (tests.integration.marketplace.conftest.DOG)
    assert "Walked by Alex Morgan" in written
    local = start.astimezone(ZoneInfo("America/New_York"))  # the walker's timezone
    assert any(text.startswith(f"{local:%A} {local.day} {local:%B %Y} · {local:%H:%M}") for text in written)
    assert f"{summary['distance_m'] / 1000:.2f}" in written
    assert summary["duration_s"] < 3600 and str(summary["duration_s"] // 60) in written and "min" in written
    pace = round(summary["pace_min_per_km"] * 60)
    assert f"{pace // 60}:{pace % 60:02d}" in written and "min/km" in written
    assert "Pee 1" in written and "End" in written and any(t.endswith(" m") for t in written)  # legend, scale bar
    assert len(list(root.iter(f"{SVG}polyline"))) == 2  # the route, on its white casing
    description = "".join(root.find(f"{SVG}desc").itertext())  # type: ignore[union-attr]
    assert f"{summary['distance_m'] / 1000:.2f} km in " in description and "pee 1, poo 0" in description


def test_names_are_escaped_and_the_card_still_parses(api: Api, walk: Walk) -> None:
    nasty = '<script>alert(1)</script> & "Rex"'
    dog_id = rows(database_url(), "SELECT dog_id FROM booking_dogs WHERE booking_id = %s", walk.booking_id)[0]
    run_sql(database_url(), "UPDATE dogs SET name = %s WHERE id = %s", nasty, dog_id["dog_id"])
    run_sql(database_url(), "UPDATE users SET name = %s WHERE id = %s", "Mallory </text><script/>", walk.walker.id)
    ingest.ingest(walk.id, track(started_at(walk) + timedelta(seconds=5), 10))

    root, document = card(api, walk)

    assert "<script" not in document
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp;" in document
    assert nasty in texts(root) and "Walked by Mallory </text><script/>" in texts(root)
    assert not list(root.iter(f"{SVG}script"))
    assert nasty in "".join(root.find(f"{SVG}title").itertext())  # type: ignore[union-attr]


def test_a_walk_with_no_points_yet_has_a_card_saying_so(api: Api, walk: Walk) -> None:
    root, _ = card(api, walk)

    written = texts(root)
    assert "No route yet" in written
    assert "0.00" in written and "UNDER WAY" in written
    assert not list(root.iter(f"{SVG}polyline"))
