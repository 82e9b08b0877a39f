"""The walker's note (given at completion: on the summary and the report card, escaped), `food`
events, photo events naming a photo of the walk, and the walk as GPX 1.1 read back by gpxpy to
exactly the stored points and times."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import gpxpy

from dogwalk.tracking import ingest
from tests.conftest import Dependencies
from tests.integration.bookings.conftest import EVERY_DAY, database_url
from tests.integration.conftest import Api, assert_problem
from tests.integration.marketplace.conftest import Caller, make_walker, rows, run_sql
from tests.integration.tracking.conftest import Walk, start_walk
from tests.integration.tracking.test_walk_views import SVG, at, ok, started_at, texts, track

NOTE = 'Biscuit loved the park & met <b>"Rex"</b> </text><script>alert(1)</script>. Drank lots of water.'


def complete(api: Api, walk: Walk, body: object = None) -> None:
    answer = api.post(f"/v1/bookings/{walk.booking_id}/complete", json_body=body, token=walk.walker.token)
    assert answer.status == 200, answer.body


def another_walk(api: Api, state: Dependencies, admin: Caller, owner: Caller, card: str) -> Walk:
    """A walk under way with another walker (one walker walks one walk at a time)."""
    return start_walk(api, owner, make_walker(api, state, admin, weekly=EVERY_DAY), card)


def add_photo(walk: Walk) -> str:
    photo_id = str(uuid.uuid4())
    run_sql(database_url(), "INSERT INTO walk_photos (id, walk_id, content_type, size_bytes) VALUES (%s, %s,"
            " 'image/jpeg', 1000)", photo_id, walk.id)  # fmt: skip
    return photo_id


# --- the note ------------------------------------------------------------------------------------


def test_the_walkers_note_is_on_the_summary_and_escaped_on_the_report_card(api: Api, walk: Walk) -> None:
    ingest.ingest(walk.id, track(started_at(walk) + timedelta(seconds=5), 10))

    complete(api, walk, {"note": NOTE})

    assert ok(api.get(f"/v1/walks/{walk.id}", token=walk.owner.token))["note"] == NOTE
    answer = api.get(f"/v1/walks/{walk.id}/report.svg", token=walk.owner.token)
    document = answer.body.decode()
    assert "<script" not in document and "<b>" not in document
    root = ET.fromstring(document)  # noqa: S314 - our own endpoint's output
    assert not list(root.iter(f"{SVG}script"))
    written = texts(root)
    assert any(line.startswith("NOTE FROM") for line in written)
    # wrapped over lines, every word of it there, in order
    assert " ".join(written[written.index(next(t for t in written if t.startswith("NOTE FROM"))) + 1 :][:8]).startswith(
        " ".join(NOTE.split()[:6])
    )


def test_a_long_note_wraps_and_is_cut_on_the_card(api: Api, walk: Walk) -> None:
    long_note = " ".join(["wonderful"] * 110)[:1000]
    complete(api, walk, {"note": long_note})

    root = ET.fromstring(api.get(f"/v1/walks/{walk.id}/report.svg", token=walk.owner.token).body)  # noqa: S314
    written = texts(root)
    start = next(i for i, t in enumerate(written) if t.startswith("NOTE FROM")) + 1
    lines = [t for t in written[start:] if t.startswith("wonderful")]
    assert len(lines) == 8 and lines[-1].endswith("…")
    assert all(len(line) <= 62 for line in lines)


def test_completing_without_a_body_or_with_a_null_note_leaves_no_note(
    api: Api, state: Dependencies, walk: Walk, owner: Caller, admin: Caller, card: str
) -> None:
    complete(api, walk)
    assert ok(api.get(f"/v1/walks/{walk.id}", token=walk.owner.token))["note"] is None
    other = another_walk(api, state, admin, owner, card)
    complete(api, other, {"note": None})
    assert ok(api.get(f"/v1/walks/{other.id}", token=other.owner.token))["note"] is None


def test_a_note_over_1000_characters_or_an_unknown_field_is_422_and_completes_nothing(api: Api, walk: Walk) -> None:
    path = f"/v1/bookings/{walk.booking_id}/complete"
    for body in ({"note": "x" * 1001}, {"note": "fine", "rating": 5}, {"note": 7}):
        assert_problem(api.post(path, json_body=body, token=walk.walker.token), 422, "validation_error")

    assert ok(api.get(f"/v1/walks/{walk.id}", token=walk.owner.token))["status"] == "in_progress"
    assert rows(database_url(), "SELECT count(*) AS n FROM ledger_transactions") == [{"n": 0}]
    complete(api, walk, {"note": "x" * 1000})
    assert ok(api.get(f"/v1/walks/{walk.id}", token=walk.owner.token))["note"] == "x" * 1000


# --- food and photo events -----------------------------------------------------------------------


def test_food_is_an_event_and_a_photo_event_names_only_a_photo_of_its_walk(
    api: Api, state: Dependencies, walk: Walk, owner: Caller, admin: Caller, card: str
) -> None:
    now = int(datetime.now(UTC).timestamp())
    path = f"/v1/walks/{walk.id}/locations"
    photo = add_photo(walk)
    elsewhere = add_photo(another_walk(api, state, admin, owner, card))
    sent = [
        ({"type": "food", "tst": now, "note": "half a cup"}, {"accepted": 0, "events": 1, "dropped": {}}),
        ({"type": "photo", "tst": now + 1, "photo_id": photo}, {"accepted": 0, "events": 1, "dropped": {}}),
        ({"type": "photo", "tst": now + 2, "photo_id": elsewhere},
         {"accepted": 0, "events": 0, "dropped": {"unknown_photo": 1}}),
        ({"type": "photo", "tst": now + 3, "photo_id": str(uuid.uuid4())},
         {"accepted": 0, "events": 0, "dropped": {"unknown_photo": 1}}),
    ]  # fmt: skip
    for message, expected in sent:
        answer = api.post(path, json_body=message, token=walk.walker.token)
        assert (answer.status, answer.json()) == (202, expected), message
    for bad in ({"type": "pee", "tst": now, "photo_id": photo}, {"type": "photo", "tst": now, "photo_id": "nope"},
                {"type": "snack", "tst": now}):  # fmt: skip
        assert_problem(api.post(path, json_body=bad, token=walk.walker.token), 422, "validation_error")

    seen = ok(api.get(f"/v1/walks/{walk.id}", token=walk.owner.token))
    assert {kind: n for kind, n in seen["events"].items() if n} == {"food": 1, "photo": 1}
    assert seen["dropped"] == {"unknown_photo": 2}
    marks = [f["properties"] for f in ok(api.get(f"/v1/walks/{walk.id}/route", token=walk.owner.token))["features"][1:]]
    assert marks == [
        {"type": "food", "tst": now, "note": "half a cup", "photo_id": None},
        {"type": "photo", "tst": now + 1, "note": None, "photo_id": photo},
    ]


# --- GPX -----------------------------------------------------------------------------------------


def test_the_gpx_reads_back_to_exactly_the_stored_points_times_and_events(api: Api, walk: Walk,
                                                                         admin: Caller) -> None:  # fmt: skip
    start = started_at(walk)
    points = track(start + timedelta(seconds=3), 40, step_s=4)
    # an awkward double: the GPX must carry it to the last bit
    points[5] = ingest.Point(points[5].ts, 40.756123456789012, -73.98612345678901, 4.0)
    events = [
        ingest.WalkEvent(points[10].ts, "pee", *at(70, 1)),
        ingest.WalkEvent(points[20].ts, "note", note='Met "Rex" & <Bella>'),  # no fix: where the walk was
        ingest.WalkEvent(points[30].ts, "food", *at(190, 2)),
    ]
    ingest.ingest(walk.id, points, events, now=points[-1].ts)
    stored = rows(database_url(), "SELECT ts, lat, lon FROM walk_points WHERE walk_id = %s ORDER BY ts", walk.id)

    answer = api.get(f"/v1/walks/{walk.id}/route.gpx", token=walk.owner.token)

    assert answer.status == 200, answer.body
    assert answer.headers["content-type"].startswith("application/gpx+xml")
    document = answer.body.decode()
    assert "<Bella>" not in document
    parsed = gpxpy.parse(document)
    assert parsed.version == "1.1"
    ((segment,),) = [track.segments for track in parsed.tracks]
    assert [(p.latitude, p.longitude, p.time) for p in segment.points] == [
        (row["lat"], row["lon"], row["ts"]) for row in stored
    ]
    assert len(stored) == 40 and stored[5]["lat"] == 40.756123456789012
    assert [(w.type, w.name, w.time, w.description) for w in parsed.waypoints] == [
        ("pee", "Pee", points[10].ts, None),
        ("note", "Note", points[20].ts, 'Met "Rex" & <Bella>'),
        ("food", "Food", points[30].ts, None),
    ]
    assert (parsed.waypoints[0].latitude, parsed.waypoints[0].longitude) == at(70, 1)
    assert (parsed.waypoints[1].latitude, parsed.waypoints[1].longitude) == (points[20].lat, points[20].lon)
    assert api.get(f"/v1/walks/{walk.id}/route.gpx", token=admin.token).status == 200


def test_a_walk_with_no_points_is_an_empty_track(api: Api, walk: Walk) -> None:
    parsed = gpxpy.parse(api.get(f"/v1/walks/{walk.id}/route.gpx", token=walk.walker.token).body.decode())

    assert [len(segment.points) for track in parsed.tracks for segment in track.segments] == [0]
    assert parsed.waypoints == []
