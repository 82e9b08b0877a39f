"""GPS ingest: OwnTracks messages from walker phones into `walk_points`, the walk's events, and
the walk's summary kept up to date as points arrive.

Phones are on flaky networks: they buffer while offline, send duplicates and points out of
order. A point is (walk, tst), so a redelivered message inserts nothing. Dropped and counted per
reason (kept in the walk's `dropped`): `inaccurate` (accuracy worse than 100 m), `outside_walk`
(before its start or after its end), `duplicate`, `too_fast` (over 50 km/h from the point before
it in time), `walk_ended` (arrived after the walk was completed: its summary is frozen).

The summary is never recomputed from all points: a point later than the last one extends the
distance from it; a late point (older than the last) is placed between its neighbours in time,
so the distance stays that of the route read in time order. Each walk's points are written under
a lock on its row, one statement per batch.
"""

from __future__ import annotations

import math
import re
import struct
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from math import asin, cos, sin, sqrt
from typing import (
    Annotated,
    Any,
    Literal,
    NamedTuple,
    NotRequired,  # pydantic reads typing's own only from 3.12
)

import psycopg
from psycopg.types.json import Jsonb
from pydantic import BaseModel, ConfigDict, Field, StrictInt, TypeAdapter, model_validator
from typing_extensions import TypedDict

from dogwalk.adapters import db
from dogwalk.errors import InvalidState, NotFound, require_id

MAX_ACCURACY_M = 100.0
MAX_SPEED_KMH = 50.0
MAX_REPORTED_SPEED_KMH = 100_000.0  # a phone's `vel` beyond it is no speed (and more than a `real` holds)
CLOCK_SKEW = timedelta(seconds=60)  # phone clocks drift; a point this far outside the walk still counts
EARTH_RADIUS_M = 6_371_008.8  # mean radius (IUGG)
EVENT_TYPES = ("pee", "poo", "water", "food", "photo", "note")
TOPIC = re.compile(r"^dogwalk/walks/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/(location|event)$")

Lat = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
Lon = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]
Epoch = Annotated[StrictInt, Field(gt=1_000_000_000, lt=10_000_000_000)]  # seconds, 2001..2286


# An OwnTracks `location` message and a `batch` of them, validated into plain dicts: pydantic makes a
# dict several times faster than a model instance, and a queue batch carries a thousand points.
# Fields we do not use (`tid`, `alt`, `cog`, ...) are ignored.
class Location(TypedDict):
    _type: Literal["location"]
    lat: Lat
    lon: Lon
    tst: Epoch
    acc: NotRequired[Annotated[float, Field(ge=0, allow_inf_nan=False)] | None]
    vel: NotRequired[Annotated[float, Field(ge=0, le=MAX_REPORTED_SPEED_KMH, allow_inf_nan=False)] | None]
    batt: NotRequired[Annotated[int, Field(ge=0, le=100)] | None]


class Batch(TypedDict):
    """Points a phone buffered while offline."""

    _type: Literal["batch"]
    points: Annotated[list[Location], Field(max_length=10_000)]


class Event(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: Literal["pee", "poo", "water", "food", "photo", "note"]
    tst: Epoch
    lat: Lat | None = None
    lon: Lon | None = None
    note: Annotated[str, Field(max_length=2000)] | None = None
    # a `photo` event may name its photo (one uploaded to this walk: `POST /v1/walks/{id}/photos`)
    photo_id: uuid.UUID | None = None

    @model_validator(mode="after")
    def _photo_only_on_a_photo(self) -> Event:
        if self.photo_id is not None and self.type != "photo":
            raise ValueError("only a photo event names a photo_id")
        return self


_location_message: TypeAdapter[Location | Batch] = TypeAdapter(
    Annotated[Location | Batch, Field(discriminator="_type")]
)


class _QueuedLocation(Location):
    topic: str


class _QueuedBatch(Batch):
    topic: str


# a queued message (the payload with the topic it arrived on), parsed and validated in one pass
queued_location: TypeAdapter[_QueuedLocation | _QueuedBatch] = TypeAdapter(
    Annotated[_QueuedLocation | _QueuedBatch, Field(discriminator="_type")]
)


class Point(NamedTuple):
    """One fix (a tuple: the cheapest object to make, a thousand a queue batch)."""

    ts: datetime
    lat: float
    lon: float
    accuracy: float | None = None
    speed: float | None = None
    battery: int | None = None


@dataclass(frozen=True)
class WalkEvent:
    ts: datetime
    type: str
    lat: float | None = None
    lon: float | None = None
    note: str | None = None
    photo_id: str | None = None


def _instant(tst: int) -> datetime:
    return datetime.fromtimestamp(tst, UTC)


def points_of(message: dict[str, Any]) -> list[Point]:
    """The points of a `location` or `batch` message; pydantic's ValidationError if malformed."""
    return points_in(_location_message.validate_python(message))


def points_in(parsed: Location | Batch) -> list[Point]:
    """The points of a validated `location` or `batch` message."""
    locations = parsed["points"] if parsed["_type"] == "batch" else [parsed]
    instant, point = datetime.fromtimestamp, tuple.__new__  # `Point(...)`'s own __new__ is a Python call: 2x slower
    return [point(Point, (instant(p["tst"], UTC), p["lat"], p["lon"], p.get("acc"), p.get("vel"), p.get("batt")))
            for p in locations]  # fmt: skip


def event_of(message: dict[str, Any]) -> WalkEvent:
    parsed = Event.model_validate(message)
    photo = str(parsed.photo_id) if parsed.photo_id else None
    return WalkEvent(_instant(parsed.tst), parsed.type, parsed.lat, parsed.lon, parsed.note, photo)


_RADIANS = math.pi / 180


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine), as `math.radians` would compute it without its calls (a
    queue batch makes a thousand)."""
    phi1, phi2 = lat1 * _RADIANS, lat2 * _RADIANS
    half_dphi, half_dlmb = (phi2 - phi1) / 2, (lon2 - lon1) * _RADIANS / 2
    a = sin(half_dphi) ** 2 + cos(phi1) * cos(phi2) * sin(half_dlmb) ** 2
    return 2 * EARTH_RADIUS_M * asin(min(1.0, sqrt(a)))


def _step(before: tuple[datetime, float, float] | None, point: Point) -> float | None:
    """The metres from the point before to this one; None if getting there was too fast to be a
    walk (over 50 km/h), 0 for the first point."""
    if before is None:
        return 0.0
    metres = distance_m(before[1], before[2], point.lat, point.lon)
    seconds = (point.ts - before[0]).total_seconds()
    return None if metres * 3.6 > MAX_SPEED_KMH * max(abs(seconds), 1.0) else metres


@dataclass
class Outcome:
    """What one ingest did: the points and events kept (in time order) and the drops by reason."""

    walk_id: str
    accepted: list[Point] = field(default_factory=list)
    events: list[WalkEvent] = field(default_factory=list)
    dropped: Counter[str] = field(default_factory=Counter)
    # accepted points older than the walk's last one (a phone's offline buffer): in the route, not live
    late: int = 0


@dataclass
class Arrivals:
    """What arrived for one walk: its points, its events, and how many messages were malformed."""

    points: list[Point] = field(default_factory=list)
    events: list[WalkEvent] = field(default_factory=list)
    malformed: int = 0


def ingest(
    walk_id: str,
    points: list[Point],
    events: list[WalkEvent] | None = None,
    *,
    malformed: int = 0,
    now: datetime | None = None,
) -> Outcome | None:
    """Keep what passes the filters and update the summary, in one transaction under the walk's
    lock; None when there is no such walk."""
    return ingest_many({walk_id: Arrivals(points, events or [], malformed)}, now=now)[walk_id]


def ingest_many(arrivals: dict[str, Arrivals], *, now: datetime | None = None) -> dict[str, Outcome | None]:
    """`ingest` for several walks in one transaction (a queue batch: one lock statement, one COPY,
    one round of summary updates, whatever the number of walks); the walks are locked in id order,
    so concurrent batches cannot deadlock. A point in a month whose partition is not made yet (the
    daily maintenance makes them months ahead) gets it made, and the ingest runs again."""
    try:
        return _ingest_many(arrivals, now or datetime.now(UTC))
    except psycopg.errors.CheckViolation as exc:
        if "no partition" not in str(exc):
            raise
        with db.transaction() as conn:
            conn.execute("SELECT walk_points_maintain()")
        return _ingest_many(arrivals, now or datetime.now(UTC))


def _normalized(walk_id: str) -> str | None:
    try:
        return str(uuid.UUID(walk_id))
    except ValueError:
        return None


@dataclass
class _Plan:
    walk: dict[str, Any]
    outcome: Outcome
    late: list[Point]
    added_m: float
    events: list[WalkEvent]


def _ingest_many(arrivals: dict[str, Arrivals], moment: datetime) -> dict[str, Outcome | None]:
    outcomes: dict[str, Outcome | None] = {}
    ids = {walk_id: _normalized(walk_id) for walk_id in arrivals}
    wanted = sorted({walk_id for walk_id in ids.values() if walk_id})
    with db.pipelined_transaction() as transaction:
        conn = transaction.conn
        walks = {
            row["id"]: row
            for row in transaction.begin(
                "SELECT id::text, started_at, ended_at, distance_m, dropped, events, last_ts, last_lat, last_lon"
                "  FROM walks WHERE id = ANY(%s::uuid[]) ORDER BY id FOR UPDATE",
                (wanted,),
            )
        }
        for row in walks.values():  # psycopg's zone (a ZoneInfo) makes every comparison with our points' UTC
            row["started_at"] = row["started_at"].astimezone(UTC)  # 16x slower: a thousand a batch
            row["last_ts"] = row["last_ts"] and row["last_ts"].astimezone(UTC)
        plans: list[_Plan] = []
        fresh_rows: list[tuple[bytes, list[Point]]] = []
        for walk_id, arrived in arrivals.items():
            walk = walks.get(ids[walk_id] or "")
            if walk is None:
                outcomes[walk_id] = None
                continue
            outcome = outcomes[walk_id] = Outcome(walk["id"])
            if arrived.malformed:
                outcome.dropped["malformed"] += arrived.malformed
            if walk["ended_at"] is not None:  # frozen: nothing changes any more
                outcome.dropped["walk_ended"] += len(arrived.points) + len(arrived.events)
                continue
            earliest, latest = walk["started_at"] - CLOCK_SKEW, moment + CLOCK_SKEW
            kept = _filter(conn, walk["id"], arrived.points, earliest, latest, walk["last_ts"], outcome)
            fresh, late, added = _chain(walk, kept, outcome)
            fresh_rows.append((uuid.UUID(walk["id"]).bytes, fresh))  # binary COPY takes the UUID's 16 bytes
            timely = [e for e in arrived.events if earliest <= e.ts <= latest]
            if len(timely) < len(arrived.events):
                outcome.dropped["outside_walk"] += len(arrived.events) - len(timely)
            plans.append(_Plan(walk, outcome, late, added, timely))
        _copy(conn, fresh_rows)
        summaries = []
        for plan in plans:
            walk_id, walk, outcome = plan.walk["id"], plan.walk, plan.outcome
            added = plan.added_m + _place_late(conn, walk_id, plan.late, outcome)
            _record_events(conn, walk_id, plan.events, outcome)
            last = max(outcome.accepted, key=lambda p: p.ts, default=None)
            newest = last if last is not None and (walk["last_ts"] is None or last.ts > walk["last_ts"]) else None
            summaries.append((
                walk["distance_m"] + added, len(outcome.accepted), Jsonb(Counter(walk["dropped"]) + outcome.dropped),
                Jsonb(Counter(walk["events"]) + Counter(e.type for e in outcome.events)),
                min((p.ts for p in outcome.accepted), default=None), newest.ts if newest else None,
                newest.lat if newest else None, newest.lon if newest else None, walk_id,
            ))  # fmt: skip
        transaction.commit(
            """
            UPDATE walks SET distance_m = %s, points = points + %s, dropped = %s, events = %s,
                   first_ts = LEAST(first_ts, %s), last_ts = COALESCE(%s, last_ts),
                   last_lat = COALESCE(%s, last_lat), last_lon = COALESCE(%s, last_lon)
             WHERE id = %s
            """,
            summaries,
        )
    for done in outcomes.values():
        if done is not None:
            done.accepted.sort(key=lambda p: p.ts)
    return outcomes


def _filter(
    conn: db.Connection,
    walk_id: str,
    points: list[Point],
    earliest: datetime,
    latest: datetime,
    last_ts: datetime | None,
    outcome: Outcome,
) -> list[Point]:
    """The points worth placing: accurate, inside the walk's time, not seen before; by time.
    Only a point no later than the walk's last one can have been seen: only those are looked up."""
    candidates: dict[datetime, Point] = {}
    for point in points:
        if point.accuracy is not None and point.accuracy > MAX_ACCURACY_M:
            outcome.dropped["inaccurate"] += 1
        elif not earliest <= point.ts <= latest:
            outcome.dropped["outside_walk"] += 1
        elif point.ts in candidates:
            outcome.dropped["duplicate"] += 1
        else:
            candidates[point.ts] = point
    maybe_seen = [ts for ts in candidates if last_ts is not None and ts <= last_ts]
    if maybe_seen:
        stored = conn.execute(
            "SELECT ts FROM walk_points WHERE walk_id = %s AND ts = ANY(%s)", (walk_id, maybe_seen)
        ).fetchall()
        for row in stored:
            del candidates[row["ts"]]
            outcome.dropped["duplicate"] += 1
    return [candidates[ts] for ts in sorted(candidates)]


def _chain(walk: dict[str, Any], points: list[Point], outcome: Outcome) -> tuple[list[Point], list[Point], float]:
    """Points after the walk's last one, chained on from it (the jump filter and the distance
    they add), and the late ones, left to `_place_late`."""
    last_ts = walk["last_ts"]
    fresh = [p for p in points if last_ts is None or p.ts > last_ts]
    late = [p for p in points if last_ts is not None and p.ts < last_ts]
    added = 0.0
    chained: list[Point] = []
    if fresh and last_ts is None:  # the walk's first point: nothing to come from
        chained.append(fresh[0])
        fresh = fresh[1:]
    before_ts, before_lat, before_lon = chained[0][:3] if chained else (last_ts, walk["last_lat"], walk["last_lon"])
    # `_step`'s rule and `distance_m`'s formula (the same operations: the same floats), inlined with the
    # point before's latitude and its cosine kept: this loop runs for every point of a batch
    if fresh:
        phi_before = before_lat * _RADIANS
        cos_before = cos(phi_before)
    # (`min`, `max` and `abs` as comparisons: the same values, without three calls a point)
    for point in fresh:
        ts, lat, lon = point[0], point[1], point[2]
        phi = lat * _RADIANS
        cos_phi = cos(phi)
        a = sin((phi - phi_before) / 2) ** 2 + cos_before * cos_phi * sin((lon - before_lon) * _RADIANS / 2) ** 2
        metres = 2 * EARTH_RADIUS_M * asin(sqrt(a) if a < 1.0 else 1.0)
        seconds = (ts - before_ts).total_seconds()
        if seconds < 0.0:
            seconds = -seconds
        if metres * 3.6 > MAX_SPEED_KMH * (seconds if seconds > 1.0 else 1.0):
            outcome.dropped["too_fast"] += 1
            continue
        added += metres
        chained.append(point)
        before_ts, before_lon, phi_before, cos_before = ts, lon, phi, cos_phi
    outcome.accepted.extend(chained)
    return chained, late, added


def _place_late(conn: db.Connection, walk_id: str, late: list[Point], outcome: Outcome) -> float:
    """Each late point between its neighbours in time (after the fresh ones are in); the distance
    they add: the change of the route's length in time order."""
    added = 0.0
    for point in late:
        previous = conn.execute(
            "SELECT ts, lat, lon FROM walk_points WHERE walk_id = %s AND ts < %s ORDER BY ts DESC LIMIT 1",
            (walk_id, point.ts),
        ).fetchone()
        following = conn.execute(
            "SELECT ts, lat, lon FROM walk_points WHERE walk_id = %s AND ts > %s ORDER BY ts LIMIT 1",
            (walk_id, point.ts),
        ).fetchone()
        prev = (previous["ts"], previous["lat"], previous["lon"]) if previous else None
        step = _step(prev, point)
        if step is None:
            outcome.dropped["too_fast"] += 1
            continue
        added += step
        if following is not None:
            added += distance_m(point.lat, point.lon, following["lat"], following["lon"])
        if prev is not None and following is not None:
            added -= distance_m(prev[1], prev[2], following["lat"], following["lon"])
        _copy(conn, [(uuid.UUID(walk_id).bytes, [point])])
        outcome.accepted.append(point)
        outcome.late += 1
    return added


# PostgreSQL's binary COPY format (https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.4):
# the signature, no flags, no header extension; per row its field count, then each field's length
# (-1: NULL) and bytes in network order; the trailer. A batch's thousand rows are packed by one struct
# call each, where psycopg's row writer takes a few microseconds a row (a third of the handler's time).
_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
_TRAILER = b"\xff\xff"
_NULL = b"\xff\xff\xff\xff"
_ROW = struct.Struct("!hi16siqidid").pack  # 7 fields; walk id (uuid); ts (int8 µs since 2000); lat; lon
_FLOAT4 = struct.Struct("!if").pack  # accuracy, speed (real)
_INT2 = struct.Struct("!ih").pack  # battery (smallint)
_FULL_ROW = struct.Struct("!hi16siqididififih").pack  # a row with all seven: what phones send
_PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _copy_data(walks: list[tuple[bytes, list[Point]]]) -> bytes:
    """The points of each walk (its id's 16 bytes, its points) as rows of walk_points in the binary
    COPY format."""
    parts = [_SIGNATURE]
    append = parts.append
    for walk, points in walks:
        for ts, lat, lon, accuracy, speed, battery in points:
            us = (ts - _PG_EPOCH) // _MICROSECOND
            if accuracy is not None and speed is not None and battery is not None:
                append(_FULL_ROW(7, 16, walk, 8, us, 8, lat, 8, lon, 4, accuracy, 4, speed, 2, battery))
                continue
            append(_ROW(7, 16, walk, 8, us, 8, lat, 8, lon))
            append(_NULL if accuracy is None else _FLOAT4(4, accuracy))
            append(_NULL if speed is None else _FLOAT4(4, speed))
            append(_NULL if battery is None else _INT2(2, battery))
    append(_TRAILER)
    return b"".join(parts)


def _copy(conn: db.Connection, walks: list[tuple[bytes, list[Point]]]) -> None:
    """COPY points in: none of them is stored yet (each is later than its walk's last point, or
    was looked up), and no other writer can add one meanwhile (the walks' rows are locked)."""
    if not any(points for _, points in walks):
        return
    statement = "COPY walk_points (walk_id, ts, lat, lon, accuracy, speed, battery) FROM STDIN (FORMAT BINARY)"
    with conn.cursor() as cursor, cursor.copy(statement) as copy:
        copy.write(_copy_data(walks))


def _record_events(conn: db.Connection, walk_id: str, events: list[WalkEvent], outcome: Outcome) -> None:
    """The new events; a photo event naming a photo that is not of this walk is dropped (`unknown_photo`)."""
    named = [e.photo_id for e in events if e.photo_id]
    query = "SELECT id::text FROM walk_photos WHERE walk_id = %s AND id = ANY(%s::uuid[])"
    photos = {row["id"] for row in conn.execute(query, (walk_id, named)).fetchall()} if named else set()
    for event in sorted(events, key=lambda e: e.ts):
        if event.photo_id and event.photo_id not in photos:
            outcome.dropped["unknown_photo"] += 1
            continue
        written = conn.execute(
            "INSERT INTO walk_events (walk_id, ts, type, lat, lon, note, photo_id)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING ts",
            (walk_id, event.ts, event.type, event.lat, event.lon, event.note, event.photo_id),
        ).fetchone()
        if written is None:
            outcome.dropped["duplicate"] += 1
        else:
            outcome.events.append(event)


def parse(message: dict[str, Any], kind: str) -> tuple[list[Point], list[WalkEvent]]:
    """A phone's message by its kind (`location`: a location or a batch; `event`); pydantic's
    ValidationError if malformed."""
    return (points_of(message), []) if kind == "location" else ([], [event_of(message)])


def live_messages(outcome: Outcome) -> list[dict[str, Any]]:
    """What the live view is sent for an ingest, in time order: the events, and the positions
    that moved the walk on (late ones fill in the route, but the live view never goes back)."""
    sent: list[tuple[datetime, dict[str, Any]]] = [
        (p.ts, {"type": "position", "walk_id": outcome.walk_id, "lat": p.lat, "lon": p.lon,
                "tst": int(p.ts.timestamp())})
        for p in outcome.accepted[outcome.late :]  # sorted by time: the late ones come first
    ]  # fmt: skip
    sent += [
        (e.ts, {"type": "event", "walk_id": outcome.walk_id, "event": e.type, "lat": e.lat, "lon": e.lon,
                "tst": int(e.ts.timestamp()), "note": e.note, "photo_id": e.photo_id})
        for e in outcome.events
    ]  # fmt: skip
    return [message for _, message in sorted(sent, key=lambda pair: pair[0])]


def require_walkers_walk(walk_id: str, walker_id: str) -> None:
    """The walk is the walker's and under way: else 404 (not theirs, no such walk) or 409."""
    require_id(walk_id, "walk")
    with db.transaction() as conn:
        row = conn.execute(
            "SELECT b.status FROM walks w JOIN bookings b ON b.id = w.booking_id WHERE w.id = %s AND b.walker_id = %s",
            (walk_id, walker_id),
        ).fetchone()
    if row is None:
        raise NotFound("No such walk.")
    if row["status"] != "in_progress":
        raise InvalidState("This walk is not under way.")
