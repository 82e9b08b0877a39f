"""Reading a walk: its summary, its route as GeoJSON and its report card, for the booking's
owner, its walker or an admin; anyone else is told there is no such walk (as for an unknown id).

Everything a view shows is read in one repeatable-read transaction, so a route and its summary
agree even while points arrive.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dogwalk.adapters import db
from dogwalk.errors import NotFound, require_id
from dogwalk.tracking import geometry
from dogwalk.tracking.ingest import EVENT_TYPES

GEOJSON_DECIMALS = 6  # about 0.1 m: what RFC 7946 suggests, and more than a phone's GPS knows


@dataclass(frozen=True)
class Fix:
    lat: float
    lon: float
    tst: int  # epoch seconds


@dataclass(frozen=True)
class Summary:
    id: str
    booking_id: str
    status: str  # the booking's: in_progress | completed
    started_at: datetime
    ended_at: datetime | None
    distance_m: float
    duration_s: int
    points: int
    events: dict[str, int]
    dropped: dict[str, int]
    last_position: Fix | None
    pace_min_per_km: float | None
    note: str | None = None  # the walker's, given at completion


@dataclass(frozen=True)
class Mark:
    """A walk event where it happened: its own position, else the route's nearest in time."""

    type: str
    ts: datetime
    note: str | None
    position: geometry.Position | None
    photo_id: str | None = None


_VISIBLE = """
    SELECT w.id::text, w.booking_id::text, b.status, b.walker_id::text, w.started_at, w.ended_at, w.distance_m,
           w.points, w.dropped, w.events, w.last_ts, w.last_lat, w.last_lon, w.note
      FROM walks w JOIN bookings b ON b.id = w.booking_id
     WHERE w.id = %s AND (%s OR %s IN (b.owner_id, b.walker_id))
"""


def _visible(conn: db.Connection, walk_id: str, caller_id: str, caller_role: str) -> dict[str, Any]:
    require_id(walk_id, "walk")
    conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
    row = conn.execute(_VISIBLE, (walk_id, caller_role == "admin", caller_id)).fetchone()
    if row is None:
        raise NotFound("No such walk.")
    return row


def _summary(row: dict[str, Any], now: datetime) -> Summary:
    ended = row["ended_at"]
    duration_s = max(0, int(((ended or now) - row["started_at"]).total_seconds()))
    distance = float(row["distance_m"])
    last = (
        Fix(row["last_lat"], row["last_lon"], int(row["last_ts"].timestamp())) if row["last_ts"] is not None else None
    )
    return Summary(
        id=row["id"],
        booking_id=row["booking_id"],
        status=row["status"],
        started_at=row["started_at"],
        ended_at=ended,
        distance_m=round(distance, 1),
        duration_s=duration_s,
        points=row["points"],
        events={kind: int(row["events"].get(kind, 0)) for kind in EVENT_TYPES},
        dropped={reason: int(count) for reason, count in sorted(row["dropped"].items())},
        last_position=last,
        pace_min_per_km=round(duration_s / 60 / (distance / 1000), 2) if distance > 0 else None,
        note=row["note"],
    )


def get(walk_id: str, caller_id: str, caller_role: str, *, now: datetime | None = None) -> Summary:
    """The walk's summary; its duration runs to now while it is under way."""
    with db.transaction() as conn:
        row = _visible(conn, walk_id, caller_id, caller_role)
    return _summary(row, now or datetime.now(UTC))


def _track(conn: db.Connection, walk_id: str) -> tuple[list[datetime], list[geometry.Position]]:
    found = conn.execute("SELECT ts, lat, lon FROM walk_points WHERE walk_id = %s ORDER BY ts", (walk_id,)).fetchall()
    return [row["ts"] for row in found], [(row["lat"], row["lon"]) for row in found]


def _marks(conn: db.Connection, walk_id: str, times: list[datetime], track: list[geometry.Position]) -> list[Mark]:
    found = conn.execute(
        "SELECT ts, type, lat, lon, note, photo_id::text FROM walk_events WHERE walk_id = %s ORDER BY ts, type",
        (walk_id,),
    ).fetchall()
    marks = []
    for row in found:
        position: geometry.Position | None = (row["lat"], row["lon"]) if row["lat"] is not None else None
        if position is None and track:  # the phone sent no fix with it: where the walk was then
            after = bisect.bisect_left(times, row["ts"])
            nearest = min(
                (i for i in (after - 1, after) if 0 <= i < len(times)), key=lambda i: abs(times[i] - row["ts"])
            )
            position = track[nearest]
        marks.append(Mark(row["type"], row["ts"], row["note"], position, row["photo_id"]))
    return marks


def _lonlat(position: geometry.Position) -> list[float]:
    return [round(position[1], GEOJSON_DECIMALS), round(position[0], GEOJSON_DECIMALS)]


def route(walk_id: str, caller_id: str, caller_role: str, simplify_m: float = 0.0) -> dict[str, Any]:
    """The route as a GeoJSON FeatureCollection (RFC 7946): one LineString of the accepted points
    in time order, simplified to `simplify_m` (0: every point), and a Point per walk event. A
    route of fewer than two points, or an event with no position, has a null geometry."""
    with db.transaction() as conn:
        row = _visible(conn, walk_id, caller_id, caller_role)
        times, track = _track(conn, walk_id)
        marks = _marks(conn, walk_id, times, track)
    kept = geometry.simplify(track, simplify_m) if simplify_m > 0 else range(len(track))
    line = [_lonlat(track[i]) for i in kept]
    features: list[dict[str, Any]] = [
        {
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": line} if len(line) >= 2 else None,
            "properties": {
                "walk_id": row["id"],
                "points": len(track),
                "simplified_points": len(line),
                "distance_m": round(float(row["distance_m"]), 1),
            },
        }
    ]
    features += [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": _lonlat(mark.position)} if mark.position else None,
            "properties": {
                "type": mark.type,
                "tst": int(mark.ts.timestamp()),
                "note": mark.note,
                "photo_id": mark.photo_id,
            },
        }
        for mark in marks
    ]
    return {"type": "FeatureCollection", "features": features}


_PEOPLE = """
    SELECT u.name AS walker_name, coalesce(p.timezone, 'UTC') AS timezone,
           coalesce((SELECT array_agg(d.name ORDER BY d.name, d.id) FROM booking_dogs bd JOIN dogs d ON d.id = bd.dog_id
                      WHERE bd.booking_id = b.id), '{}') AS dog_names
      FROM bookings b JOIN users u ON u.id = b.walker_id LEFT JOIN walker_profiles p ON p.user_id = b.walker_id
     WHERE b.id = %s
"""


def report(walk_id: str, caller_id: str, caller_role: str, *, now: datetime | None = None) -> str:
    """The walk's report card as an SVG document."""
    from dogwalk.tracking import photos, report_card  # imported here: the summary and the route never draw

    moment = now or datetime.now(UTC)
    with db.transaction() as conn:
        row = _visible(conn, walk_id, caller_id, caller_role)
        times, track = _track(conn, walk_id)
        marks = _marks(conn, walk_id, times, track)
        people = conn.execute(_PEOPLE, (row["booking_id"],)).fetchone() or {}
    summary = _summary(row, moment)
    photo_thumbnails = photos.card_thumbnails(walk_id)  # S3 is read only when the walk has ready photos
    return report_card.render(
        report_card.Card(
            dog_names=list(people.get("dog_names") or []),
            walker_name=people.get("walker_name") or "",
            timezone=people.get("timezone") or "UTC",
            started_at=summary.started_at,
            ended_at=summary.ended_at,
            under_way=summary.status == "in_progress",
            distance_m=summary.distance_m,
            duration_s=summary.duration_s,
            pace_min_per_km=summary.pace_min_per_km,
            events=summary.events,
            points=summary.points,
            route=track,
            marks=[(mark.type, mark.position) for mark in marks],
            note=summary.note,
            photos=photo_thumbnails,
        )
    )


def gpx(walk_id: str, caller_id: str, caller_role: str) -> str:
    """The walk as a GPX 1.1 document: its track with times, its located events as waypoints."""
    from dogwalk.tracking import gpx as document  # imported here: only this view writes GPX

    with db.transaction() as conn:
        row = _visible(conn, walk_id, caller_id, caller_role)
        times, track = _track(conn, walk_id)
        marks = _marks(conn, walk_id, times, track)
        people = conn.execute(_PEOPLE, (row["booking_id"],)).fetchone() or {}
    name = f"Walk of {', '.join(people.get('dog_names') or []) or 'your dog'} with {people.get('walker_name') or ''}"
    waypoints = [
        document.Waypoint(mark.type, mark.ts, mark.position[0], mark.position[1], mark.note)
        for mark in marks
        if mark.position is not None
    ]
    return document.document(name.strip(), row["started_at"], times, track, waypoints)
