"""Walkers: the profile (price, service area, sizes, timezone), weekly availability in local
time, time off, verification by admins (an audit row per decision, an outbox event), the public
profile, and search."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from psycopg.types.json import Jsonb

from dogwalk.adapters import db
from dogwalk.adapters.pagination import decode_cursor, identifier, instant, number, page
from dogwalk.errors import InvalidState, NotFound, ValidationFailed, require_id
from dogwalk.events import outbox

MAX_RADIUS_KM = 25.0


@dataclass(frozen=True)
class Window:
    weekday: int  # Monday = 0
    start_min: int
    end_min: int


def _field_error(loc: list[str | int], msg: str) -> ValidationFailed:
    return ValidationFailed(msg, errors=[{"loc": loc, "msg": msg}])


def save_profile(walker_id: str, profile: dict[str, Any]) -> dict[str, Any]:
    with db.transaction() as conn:
        known = conn.execute("SELECT 1 FROM pg_timezone_names WHERE name = %s", (profile["timezone"],)).fetchone()
        if known is None:
            raise _field_error(["body", "timezone"], "Not an IANA timezone the database knows.")
        conn.execute(
            """
            INSERT INTO walker_profiles (user_id, bio, price_cents_per_30min, lat, lon, radius_km, max_dogs,
                                         accepted_sizes, timezone)
            VALUES (%(id)s, %(bio)s, %(price)s, %(lat)s, %(lon)s, %(radius)s, %(max_dogs)s, %(sizes)s, %(tz)s)
            ON CONFLICT (user_id) DO UPDATE SET
                bio = EXCLUDED.bio, price_cents_per_30min = EXCLUDED.price_cents_per_30min,
                lat = EXCLUDED.lat, lon = EXCLUDED.lon, radius_km = EXCLUDED.radius_km,
                max_dogs = EXCLUDED.max_dogs, accepted_sizes = EXCLUDED.accepted_sizes,
                timezone = EXCLUDED.timezone, updated_at = now()
            """,
            {
                "id": walker_id,
                "bio": profile["bio"],
                "price": profile["price_cents_per_30min"],
                "lat": profile["lat"],
                "lon": profile["lon"],
                "radius": profile["radius_km"],
                "max_dogs": profile["max_dogs"],
                "sizes": sorted(set(profile["accepted_sizes"])),
                "tz": profile["timezone"],
            },
        )
    return own_profile(walker_id)


_PROFILE = """
    SELECT u.id::text AS id, u.name, p.bio, p.price_cents_per_30min, p.lat, p.lon, p.radius_km, p.max_dogs,
           p.accepted_sizes, p.timezone, p.verification, p.rating_count, p.completed_walks, p.no_shows,
           CASE WHEN p.rating_count > 0 THEN round(p.rating_sum::numeric / p.rating_count, 2)::float END AS rating_avg
      FROM walker_profiles p JOIN users u ON u.id = p.user_id
"""


def own_profile(walker_id: str) -> dict[str, Any]:
    with db.transaction() as conn:
        row = conn.execute(_PROFILE + " WHERE p.user_id = %s", (walker_id,)).fetchone()
    if row is None:
        raise NotFound("You have no walker profile yet.")
    return row


def public_profile(walker_id: str, viewer_id: str, viewer_role: str) -> dict[str, Any]:
    """A verified, not suspended walker's profile; the walker sees their own and admins see any,
    whatever its state."""
    require_id(walker_id, "walker")
    with db.transaction() as conn:
        row = conn.execute(
            _PROFILE + " WHERE p.user_id = %s AND ((p.verification = 'verified' AND u.suspended_at IS NULL)"
            " OR p.user_id = %s OR %s)",
            (walker_id, viewer_id, viewer_role == "admin"),
        ).fetchone()
    if row is None:
        raise NotFound("No such walker.")
    return row


def set_availability(walker_id: str, windows: list[Window]) -> list[Window]:
    """Replace the weekly windows; inverted or overlapping windows are a 422."""
    for index, window in enumerate(windows):
        if window.end_min <= window.start_min:
            raise _field_error(["body", "weekly", index], "A window must end after it starts.")
    ordered = sorted(windows, key=lambda w: (w.weekday, w.start_min))
    for earlier, later in pairwise(ordered):
        if earlier.weekday == later.weekday and later.start_min < earlier.end_min:
            raise _field_error(["body", "weekly"], f"Windows overlap on weekday {later.weekday}.")
    with db.transaction() as conn:
        _require_profile(conn, walker_id)
        conn.execute("DELETE FROM availability_windows WHERE walker_id = %s", (walker_id,))
        with conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO availability_windows (walker_id, weekday, minutes) VALUES (%s, %s, int4range(%s, %s))",
                [(walker_id, w.weekday, w.start_min, w.end_min) for w in ordered],
            )
    return ordered


def _require_profile(conn: db.Connection, walker_id: str) -> None:
    if conn.execute("SELECT 1 FROM walker_profiles WHERE user_id = %s FOR UPDATE", (walker_id,)).fetchone() is None:
        raise InvalidState("Create your walker profile first.")


def add_time_off(walker_id: str, start: datetime, end: datetime) -> dict[str, Any]:
    if end <= start:
        raise _field_error(["body", "end"], "Time off must end after it starts.")
    with db.transaction() as conn:
        _require_profile(conn, walker_id)
        row = conn.execute(
            "INSERT INTO time_off (id, walker_id, period) VALUES (%s, %s, tstzrange(%s, %s))"
            " RETURNING id::text, lower(period) AS start, upper(period) AS end",
            (str(uuid.uuid4()), walker_id, start, end),
        ).fetchone()
    if row is None:
        raise RuntimeError("the time off was not written")
    return row


def submit_verification(walker_id: str, documents: list[dict[str, str]]) -> str:
    with db.transaction() as conn:
        _require_profile(conn, walker_id)
        state = conn.execute("SELECT verification FROM walker_profiles WHERE user_id = %s", (walker_id,)).fetchone()
        if state and state["verification"] == "verified":
            raise InvalidState("You are verified already.")
        conn.execute(
            "INSERT INTO verification_submissions (id, walker_id, documents) VALUES (%s, %s, %s)",
            (str(uuid.uuid4()), walker_id, Jsonb(documents)),
        )
        conn.execute("UPDATE walker_profiles SET verification = 'pending' WHERE user_id = %s", (walker_id,))
    return "pending"


def verification_queue(status: str, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
    after = decode_cursor(cursor, instant, identifier)
    with db.transaction() as conn:
        rows = conn.execute(
            """
            SELECT p.user_id::text AS walker_id, u.name, u.email::text AS email, p.verification AS status,
                   s.documents, s.submitted_at,
                   -- walkers who never submitted (unverified) have no submission: they queue at the epoch
                   COALESCE(s.submitted_at, 'epoch'::timestamptz) AS queued_at
              FROM walker_profiles p JOIN users u ON u.id = p.user_id
              LEFT JOIN LATERAL (SELECT documents, submitted_at FROM verification_submissions
                                  WHERE walker_id = p.user_id ORDER BY submitted_at DESC LIMIT 1) s ON true
             WHERE p.verification = %s
               AND (%s::timestamptz IS NULL
                    OR (COALESCE(s.submitted_at, 'epoch'::timestamptz), p.user_id) > (%s::timestamptz, %s::uuid))
             ORDER BY queued_at, p.user_id LIMIT %s
            """,
            (status, after and after[0], after and after[0], after and after[1], limit + 1),
        ).fetchall()
    return page(rows, limit, lambda row: [row["queued_at"].isoformat(), row["walker_id"]])


def decide_verification(walker_id: str, admin_id: str, decision: str, reason: str | None) -> dict[str, Any]:
    """Approve or reject a pending walker: one audit row, the profile's state, and the walker's
    `verification.decided` event, in one transaction."""
    require_id(walker_id, "walker")
    status = "verified" if decision == "approve" else "rejected"
    with db.transaction() as conn:
        current = conn.execute(
            "SELECT verification FROM walker_profiles WHERE user_id = %s FOR UPDATE", (walker_id,)
        ).fetchone()
        if current is None:
            raise NotFound("No such walker.")
        if current["verification"] != "pending":
            raise InvalidState(f"The walker's verification is {current['verification']}, not pending.")
        decided = conn.execute(
            "INSERT INTO verification_decisions (id, walker_id, admin_id, decision, reason)"
            " VALUES (%s, %s, %s, %s, %s) RETURNING decided_at",
            (str(uuid.uuid4()), walker_id, admin_id, decision, reason),
        ).fetchone()
        conn.execute("UPDATE walker_profiles SET verification = %s WHERE user_id = %s", (status, walker_id))
        outbox.record(
            conn, "verification.decided", walker_id, "walker", {"walker_id": walker_id, "status": status,
                                                                 "reason": reason}
        )  # fmt: skip
    return {"walker_id": walker_id, "status": status, "reason": reason, "decided_by": admin_id,
            "decided_at": decided["decided_at"] if decided else None}  # fmt: skip


# the order each sort reads walkers in: each is an index of verified walkers, so a page is read
# from the front of it and the scan stops at `limit` matches
# Whether walker `p` works from %(start)s to %(end)s: inside one weekly window in the walker's
# local time (wall clock: DST-proof), and not on time off.
AVAILABLE_FOR_THE_WALK = """EXISTS (
                SELECT 1 FROM availability_windows a
                 WHERE a.walker_id = p.user_id
                   AND a.weekday = extract(isodow FROM %(start)s::timestamptz AT TIME ZONE p.timezone)::int - 1
                   AND (%(start)s::timestamptz AT TIME ZONE p.timezone)::date
                       = (%(end)s::timestamptz AT TIME ZONE p.timezone - interval '1 microsecond')::date
                   AND a.minutes @> int4range(
                         floor(extract(epoch FROM (%(start)s::timestamptz AT TIME ZONE p.timezone)::time) / 60)::int,
                         ceil(extract(epoch FROM (%(end)s::timestamptz AT TIME ZONE p.timezone
                                              - (%(start)s::timestamptz AT TIME ZONE p.timezone)::date)) / 60)::int))
           AND NOT EXISTS (
                SELECT 1 FROM time_off t
                 WHERE t.walker_id = p.user_id AND t.period && tstzrange(%(start)s, %(end)s))"""

# Whether walker `p` has no booking in these states overlapping %(start)s to %(end)s.
NOT_BOOKED = """NOT EXISTS (
                SELECT 1 FROM bookings b
                 WHERE b.walker_id = p.user_id AND b.status = ANY(%(busy)s::text[])
                   AND tstzrange(b.start_ts, b.end_ts) && tstzrange(%(start)s, %(end)s))"""
# the same, but for a booking being moved: its own time (%(excluding)s) is not in the way
NOT_BOOKED_BUT = """NOT EXISTS (
                SELECT 1 FROM bookings b
                 WHERE b.walker_id = p.user_id AND b.status = ANY(%(busy)s::text[])
                   AND b.id IS DISTINCT FROM %(excluding)s::uuid
                   AND tstzrange(b.start_ts, b.end_ts) && tstzrange(%(start)s, %(end)s))"""

SORTS = {
    "distance": "p.location <-> ll_to_earth(%(lat)s, %(lon)s)",
    "price": "p.price_cents_per_30min",
    "rating": "p.rating_rank",
}


def search(
    *,
    lat: float,
    lon: float,
    start: datetime,
    duration_min: int,
    sizes: list[str],
    sort: str,
    limit: int,
    cursor: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Verified, not suspended walkers whose area covers the point, who take these dogs, are
    available for the whole window in their local time, are not off, and have no overlapping
    requested/accepted/in-progress booking.

    One SQL query, read in the answer's order from an index (nearest first through the GiST index
    of the walkers' centres within a 25 km earth box; cheapest or best rated first through a
    B-tree) with each walker's own radius, sizes, availability, time off and bookings checked as
    it is read, so a page costs about as many walkers as it returns.
    """
    end = start + timedelta(minutes=duration_min)
    after = decode_cursor(cursor, number, identifier)
    rows = _search_rows(lat, lon, start, end, sizes, sort, after, limit)
    return page(rows, limit, lambda row: [row["sort_key"], row["id"]])


def _search_rows(
    lat: float,
    lon: float,
    start: datetime,
    end: datetime,
    sizes: list[str],
    sort: str,
    after: list[Any] | None,
    limit: int,
) -> list[dict[str, Any]]:
    order = SORTS[sort]
    # the 25 km box bounds the nearest-first scan; the other orders check each walker's own area
    bound = "AND earth_box(ll_to_earth(%(lat)s, %(lon)s), %(max_radius_m)s) @> p.location" if sort == "distance" else ""
    query = f"""
        SELECT p.user_id::text AS id, u.name, p.bio, p.price_cents_per_30min, p.timezone, p.lat, p.lon,
               p.radius_km, p.rating_count, p.completed_walks, p.no_shows, 'verified' AS verification,
               {order} AS sort_key,
               earth_distance(p.location, ll_to_earth(%(lat)s, %(lon)s)) AS distance_m,
               CASE WHEN p.rating_count > 0 THEN round(p.rating_sum::numeric / p.rating_count, 2)::float END
                   AS rating_avg
          FROM walker_profiles p
          JOIN users u ON u.id = p.user_id AND u.suspended_at IS NULL
         WHERE p.verification = 'verified' {bound}
           AND p.area @> ll_to_earth(%(lat)s, %(lon)s)
           AND earth_distance(p.location, ll_to_earth(%(lat)s, %(lon)s)) <= p.radius_km * 1000
           AND p.accepted_sizes @> %(sizes)s::text[]
           AND p.max_dogs >= %(dog_count)s
           AND {AVAILABLE_FOR_THE_WALK}
           AND {NOT_BOOKED}
           AND (%(after_key)s::float IS NULL OR ({order}, p.user_id) > (%(after_key)s::float, %(after_id)s::uuid))
         ORDER BY {order}, p.user_id
         LIMIT %(limit)s
    """  # noqa: S608  # nosec B608 - {order} and {bound} are constants of this module
    with db.transaction() as conn:
        # the box's selectivity is a fixed guess (0.1 %) to the planner, which would otherwise
        # fetch every walker in the box through a bitmap and sort them; read in order instead
        conn.execute("SET LOCAL enable_bitmapscan = off")
        conn.execute("SET LOCAL enable_sort = off")
        return conn.execute(
            query,
            {
                "lat": lat,
                "lon": lon,
                "max_radius_m": MAX_RADIUS_KM * 1000,
                "sizes": sorted(set(sizes)),
                "dog_count": len(sizes),
                "start": start,
                "end": end,
                "busy": ["requested", "accepted", "in_progress"],
                "after_key": after and after[0],
                "after_id": after and after[1],
                "limit": limit + 1,
            },
        ).fetchall()


@dataclass(frozen=True)
class WalkerFit:
    """How a walker fits one requested walk (for booking, which says why not)."""

    price_cents_per_30min: int
    timezone: str
    bookable: bool
    covers_pickup: bool
    takes_the_dogs: bool
    available: bool
    already_booked: bool


def fit(walker_id: str, lat: float, lon: float, start: datetime, end: datetime, sizes: list[str], *,
        excluding: str | None = None) -> WalkerFit | None:  # fmt: skip
    """None when there is no such walker profile. `excluding`: a booking whose own time does not
    count as the walker's (the booking being moved)."""
    with db.transaction() as conn:
        row = conn.execute(
            f"""
            SELECT p.price_cents_per_30min, p.timezone,
                   p.verification = 'verified' AND u.suspended_at IS NULL AS bookable,
                   earth_distance(p.location, ll_to_earth(%(lat)s, %(lon)s)) <= p.radius_km * 1000 AS covers_pickup,
                   p.accepted_sizes @> %(sizes)s::text[] AND p.max_dogs >= %(dog_count)s AS takes_the_dogs,
                   {AVAILABLE_FOR_THE_WALK} AS available,
                   NOT {NOT_BOOKED_BUT} AS already_booked
              FROM walker_profiles p JOIN users u ON u.id = p.user_id
             WHERE p.user_id = %(walker)s
            """,  # noqa: S608  # nosec B608 - constants of this module
            {
                "walker": walker_id,
                "lat": lat,
                "lon": lon,
                "sizes": sorted(set(sizes)),
                "dog_count": len(sizes),
                "start": start,
                "end": end,
                "busy": ["accepted", "in_progress"],
                "excluding": excluding,
            },
        ).fetchone()
    return WalkerFit(**row) if row else None
