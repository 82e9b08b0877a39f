"""A booking's care (`GET /v1/bookings/{id}/care`): the owner's home and the booked dogs' care
notes, and the log of the walkers who read them.

The owner reads it always. The walker reads it only while the booking is accepted or in progress
and from exactly 24 hours before its start until its end: the window is [start - 24 h, end), so
at start - 24 h it opens and at the end it is closed. Outside that the answer is the same 404 as
for an unknown id (no existence leaks), for a walker of another of the owner's bookings too. Each
walker read is one row of `home_access_reads`, written before the home is opened."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from dogwalk.adapters import db
from dogwalk.adapters.pagination import Page, decode_cursor, identifier, instant, page
from dogwalk.care import homes
from dogwalk.errors import NotFound, require_id

WINDOW_BEFORE = timedelta(hours=24)
WALKER_STATUSES = ("accepted", "in_progress")


def walker_may_read(status: str, start: datetime, end: datetime, now: datetime) -> bool:
    """The walker's window: an accepted or in-progress booking, from 24 h before its start until its end."""
    return status in WALKER_STATUSES and start - WINDOW_BEFORE <= now < end


def care_of(booking_id: str, caller_id: str, caller_role: str, *, now: datetime | None = None) -> dict[str, Any]:
    """`{home, dogs}` of the booking for its owner, or for its walker within the window; else NotFound."""
    require_id(booking_id, "booking")
    moment = now or datetime.now(UTC)
    with db.transaction() as conn:
        booking = conn.execute(
            "SELECT owner_id::text, walker_id::text, status, start_ts, end_ts FROM bookings WHERE id = %s",
            (booking_id,),
        ).fetchone()
        if booking is None:
            raise NotFound("No such booking.")
        as_owner = caller_role == "owner" and booking["owner_id"] == caller_id
        as_walker = (
            caller_role == "walker"
            and booking["walker_id"] == caller_id
            and walker_may_read(booking["status"], booking["start_ts"], booking["end_ts"], moment)
        )
        if not (as_owner or as_walker):
            raise NotFound("No such booking.")
        dogs = conn.execute(
            "SELECT d.id::text, d.name, d.size, d.medical_notes, d.feeding, d.vaccinations"
            " FROM booking_dogs bd JOIN dogs d ON d.id = bd.dog_id WHERE bd.booking_id = %s ORDER BY d.name, d.id",
            (booking_id,),
        ).fetchall()
        home = homes.stored(conn, booking["owner_id"])
        if as_walker:
            conn.execute(
                "INSERT INTO home_access_reads (id, owner_id, walker_id, booking_id, read_at)"
                " VALUES (%s, %s, %s, %s, %s)",
                (str(uuid.uuid4()), booking["owner_id"], caller_id, booking_id, moment),
            )
    return {"home": None if home is None else homes.opened(home), "dogs": dogs}


def access_log(owner_id: str, limit: int, cursor: str | None) -> Page:
    """Who read the owner's home and when, newest first, a page at a time."""
    after = decode_cursor(cursor, instant, identifier)
    read_at, read_id = (after[0], after[1]) if after else (None, None)
    with db.transaction() as conn:
        rows = conn.execute(
            "SELECT r.id::text, r.walker_id::text, u.name AS walker_name, r.booking_id::text, r.read_at"
            " FROM home_access_reads r JOIN users u ON u.id = r.walker_id WHERE r.owner_id = %s"
            " AND (%s::timestamptz IS NULL OR (r.read_at, r.id) < (%s::timestamptz, %s::uuid))"
            " ORDER BY r.read_at DESC, r.id DESC LIMIT %s",
            (owner_id, read_at, read_at, read_id, limit + 1),
        ).fetchall()
    return page(rows, limit, lambda row: [row["read_at"].isoformat(), row["id"]])
