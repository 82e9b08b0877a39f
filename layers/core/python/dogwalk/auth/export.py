"""Everything the platform holds about a user, as one JSON document in the API's own shapes
(`GET /v1/auth/me/export`; GDPR art. 15 and 20).

Paged, so that a user with years of walks stays within Lambda's 6 MB response: every page is the
same document — the profile, the walker profile and the preferences, then every list section —
with the lists cut where the page reaches its byte budget (`export_page_bytes`, 2 MB by default),
and `next_cursor` set while something is left. The sections are read in a fixed order, each by its
own keyset (creation time, then id), and the cursor names the section and the last item given, so
`?cursor=` answers the next page; concatenating every page's lists gives each list whole, each item
once. Sizes are measured on the items' compact JSON before they are answered.

The SQL reads other services' tables directly: auth must not import them (see `deletion`); the one
exception is `care.homes`, which opens the owner's sealed home access and imports no service.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dogwalk.adapters import db
from dogwalk.adapters.pagination import encode_cursor, instant
from dogwalk.care import homes
from dogwalk.config import settings
from dogwalk.errors import NotFound, ValidationFailed

CHUNK = 200  # rows read at a time within a section
# what a page's `next_cursor` may take, counted in its budget before it is known
_CURSOR_ALLOWANCE = 200

Row = dict[str, Any]


@dataclass(frozen=True)
class Section:
    name: str
    # a SELECT of the user's rows (%(user)s) with the keyset columns `_ts` (timestamptz) and `_id` (text)
    query: str
    shape: Callable[[Row], dict[str, Any]]


def _at(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _walk(row: Row) -> dict[str, Any]:
    """A walk's summary as `GET /v1/walks/{id}` answers it."""
    ended = row["ended_at"]
    duration_s = max(0, int(((ended or datetime.now(UTC)) - row["started_at"]).total_seconds()))
    distance = float(row["distance_m"])
    last = None
    if row["last_ts"] is not None:
        last = {"lat": row["last_lat"], "lon": row["last_lon"], "tst": int(row["last_ts"].timestamp())}
    return {
        "id": row["id"],
        "booking_id": row["booking_id"],
        "status": row["status"],
        "started_at": _at(row["started_at"]),
        "ended_at": _at(ended),
        "distance_m": round(distance, 1),
        "duration_s": duration_s,
        "points": row["points"],
        "events": {kind: int(count) for kind, count in sorted(row["events"].items())},
        "dropped": {reason: int(count) for reason, count in sorted(row["dropped"].items())},
        "last_position": last,
        "pace_min_per_km": round(duration_s / 60 / (distance / 1000), 2) if distance > 0 else None,
        "note": row["note"],
    }


def _booking(row: Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "status": row["status"],
        "owner_id": row["owner_id"],
        "walker_id": row["walker_id"],
        "dog_ids": row["dog_ids"],
        "start": _at(row["start_ts"]),
        "end": _at(row["end_ts"]),
        "pickup": {"lat": row["pickup_lat"], "lon": row["pickup_lon"], "address": row["pickup_address"]},
        "price": row["price"],
        "payment": {"status": row["payment_status"]},
        "series_id": row["series_id"],
        "notes": row["notes"],
    }


def _plain(*names: str, times: tuple[str, ...] = ()) -> Callable[[Row], dict[str, Any]]:
    """The row's `names` as they are, RFC 3339 for `times`."""

    def shape(row: Row) -> dict[str, Any]:
        return {name: _at(row[name]) if name in times else row[name] for name in names}

    return shape


SECTIONS: tuple[Section, ...] = (
    Section(
        "identities",
        "SELECT provider, subject, email::text AS email, created_at, last_used_at, created_at AS _ts,"
        " provider || ':' || subject AS _id FROM oidc_identities WHERE user_id = %(user)s",
        _plain("provider", "subject", "email", "created_at", "last_used_at", times=("created_at", "last_used_at")),
    ),
    Section(
        "dogs",
        "SELECT id::text, owner_id::text, name, breed, size, birth_date, notes, vaccinated, medical_notes, feeding,"
        " vaccinations, created_at, updated_at, deleted_at, created_at AS _ts, id::text AS _id"
        " FROM dogs WHERE owner_id = %(user)s",
        lambda row: {
            **_plain(
                "id",
                "owner_id",
                "name",
                "breed",
                "size",
                "notes",
                "vaccinated",
                "medical_notes",
                "feeding",
                "vaccinations",
            )(row),
            "birth_date": row["birth_date"].isoformat() if row["birth_date"] else None,
            **_plain("created_at", "updated_at", "deleted_at", times=("created_at", "updated_at", "deleted_at"))(row),
        },
    ),
    Section(
        "availability",
        "SELECT weekday, lower(minutes) AS start_min, upper(minutes) AS end_min, 'epoch'::timestamptz AS _ts,"
        " lpad(weekday::text, 1) || lpad(lower(minutes)::text, 4, '0') AS _id"
        " FROM availability_windows WHERE walker_id = %(user)s",
        lambda row: {"weekday": row["weekday"], "start": _clock(row["start_min"]), "end": _clock(row["end_min"])},
    ),
    Section(
        "time_off",
        "SELECT id::text, lower(period) AS start, upper(period) AS end, created_at AS _ts, id::text AS _id"
        " FROM time_off WHERE walker_id = %(user)s",
        _plain("id", "start", "end", times=("start", "end")),
    ),
    Section(
        "verification_submissions",
        "SELECT id::text, documents, submitted_at, submitted_at AS _ts, id::text AS _id"
        " FROM verification_submissions WHERE walker_id = %(user)s",
        _plain("id", "documents", "submitted_at", times=("submitted_at",)),
    ),
    Section(
        "bookings",
        "SELECT b.id::text, b.status, b.owner_id::text, b.walker_id::text, b.start_ts, b.end_ts, b.pickup_lat,"
        " b.pickup_lon, b.pickup_address, b.price, b.payment_status, b.series_id::text, b.notes,"
        " coalesce(array_agg(bd.dog_id::text ORDER BY bd.dog_id) FILTER (WHERE bd.dog_id IS NOT NULL), '{}')"
        " AS dog_ids, b.created_at AS _ts, b.id::text AS _id"
        " FROM bookings b LEFT JOIN booking_dogs bd ON bd.booking_id = b.id"
        " WHERE %(user)s IN (b.owner_id, b.walker_id) GROUP BY b.id",
        _booking,
    ),
    Section(
        "payments",
        "SELECT id::text AS booking_id, payment_status AS status, authorized_cents, captured_cents, refunded_cents,"
        " tip_cents, currency, created_at AS _ts, id::text AS _id FROM bookings"
        " WHERE %(user)s IN (owner_id, walker_id) AND payment_status IS NOT NULL",
        _plain("booking_id", "status", "authorized_cents", "captured_cents", "refunded_cents", "tip_cents", "currency"),
    ),
    Section(
        "payment_methods",
        "SELECT id::text, brand, last4, exp_month, exp_year, created_at, created_at AS _ts, id::text AS _id"
        " FROM payment_methods WHERE owner_id = %(user)s",
        _plain("id", "brand", "last4", "exp_month", "exp_year", "created_at", times=("created_at",)),
    ),
    Section(
        "tips",
        "SELECT booking_id::text, owner_id::text, walker_id::text, amount_cents, currency, status, refunded_cents,"
        " created_at, created_at AS _ts, booking_id::text AS _id FROM tips WHERE %(user)s IN (owner_id, walker_id)",
        _plain(
            "booking_id",
            "owner_id",
            "walker_id",
            "amount_cents",
            "currency",
            "status",
            "refunded_cents",
            "created_at",
            times=("created_at",),
        ),
    ),
    Section(
        "reviews",
        "SELECT booking_id::text, owner_id::text, walker_id::text, rating, comment, created_at,"
        " created_at AS _ts, booking_id::text AS _id FROM reviews WHERE %(user)s IN (owner_id, walker_id)",
        _plain("booking_id", "owner_id", "walker_id", "rating", "comment", "created_at", times=("created_at",)),
    ),
    Section(
        "walks",
        "SELECT w.id::text, w.booking_id::text, b.status, w.started_at, w.ended_at, w.distance_m, w.points, w.events,"
        " w.dropped, w.last_ts, w.last_lat, w.last_lon, w.note, w.started_at AS _ts, w.id::text AS _id"
        " FROM walks w JOIN bookings b ON b.id = w.booking_id WHERE %(user)s IN (b.owner_id, b.walker_id)",
        _walk,
    ),
    Section(
        "payouts",
        "SELECT id::text, period, amount_cents, currency, status, transfer_id, reversed_cents, paid_at, created_at,"
        " created_at AS _ts, id::text AS _id FROM payouts WHERE walker_id = %(user)s",
        _plain(
            "id",
            "period",
            "amount_cents",
            "currency",
            "status",
            "transfer_id",
            "reversed_cents",
            "paid_at",
            "created_at",
            times=("paid_at", "created_at"),
        ),
    ),
    Section(
        "notifications",
        "SELECT id::text, event_type, title, body, data, created_at, read_at, created_at AS _ts, id::text AS _id"
        " FROM notifications WHERE user_id = %(user)s",
        _plain("id", "event_type", "title", "body", "data", "created_at", "read_at", times=("created_at", "read_at")),
    ),
    Section(
        "devices",
        "SELECT id::text, platform, token, created_at, created_at AS _ts, id::text AS _id"
        " FROM devices WHERE user_id = %(user)s",
        _plain("id", "platform", "token", "created_at", times=("created_at",)),
    ),
    Section(
        "conversations",
        "SELECT id::text, owner_id::text, walker_id::text, last_message_at, created_at, blocked_at,"
        " CASE WHEN owner_id = %(user)s THEN owner_unread ELSE walker_unread END AS unread,"
        " created_at AS _ts, id::text AS _id FROM conversations WHERE %(user)s IN (owner_id, walker_id)",
        _plain(
            "id",
            "owner_id",
            "walker_id",
            "last_message_at",
            "unread",
            "created_at",
            "blocked_at",
            times=("last_message_at", "created_at", "blocked_at"),
        ),
    ),
    Section(
        "messages",
        "SELECT m.id::text, m.conversation_id::text, m.sender_id::text, m.text, m.erased, m.created_at AS sent_at,"
        " m.created_at AS _ts, m.id::text AS _id FROM messages m JOIN conversations c ON c.id = m.conversation_id"
        " WHERE %(user)s IN (c.owner_id, c.walker_id)",
        _plain("id", "conversation_id", "sender_id", "text", "erased", "sent_at", times=("sent_at",)),
    ),
)


def _size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), default=str).encode())


def _decode(cursor: str | None) -> tuple[int, list[Any] | None]:
    """(section index, the last key given in it) of a cursor; 422 for one this API did not give."""
    if not cursor:
        return 0, None
    try:
        parts = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(parts, list) or len(parts) != 3 or not isinstance(parts[0], int):
            raise ValueError("not an export cursor")
        index = parts[0]
        if not 0 <= index < len(SECTIONS):
            raise ValueError("no such section")
        if parts[1] is None and parts[2] is None:
            return index, None
        if not isinstance(parts[2], str) or len(parts[2]) > 600:
            raise ValueError("not a key")
        return index, [instant(parts[1]), parts[2]]
    except (ValueError, TypeError):
        raise ValidationFailed(
            "The cursor is not one this API gave.", errors=[{"loc": ["query", "cursor"], "msg": "invalid cursor"}]
        ) from None


def _singletons(conn: db.Connection, user_id: str) -> dict[str, Any]:
    user = conn.execute(
        "SELECT id::text, email::text, role, name, phone, mfa_enabled, created_at,"
        " email_verified_at IS NOT NULL AS email_verified FROM users WHERE id = %s AND deleted_at IS NULL",
        (user_id,),
    ).fetchone()
    if user is None:
        raise NotFound("No such user.")
    walker = conn.execute(
        "SELECT u.id::text AS id, u.name, p.bio, p.price_cents_per_30min, p.lat, p.lon, p.radius_km, p.max_dogs,"
        " p.accepted_sizes, p.timezone, p.verification FROM walker_profiles p JOIN users u ON u.id = p.user_id"
        " WHERE p.user_id = %s",
        (user_id,),
    ).fetchone()
    home = homes.stored(conn, user_id)
    chosen = conn.execute(
        "SELECT channels, quiet_start, quiet_end, timezone FROM notification_preferences WHERE user_id = %s",
        (user_id,),
    ).fetchone()
    return {
        "profile": {**user, "created_at": _at(user["created_at"])},
        "walker_profile": None
        if walker is None
        else {
            **{key: walker[key] for key in ("id", "name", "bio", "price_cents_per_30min", "max_dogs", "timezone")},
            "service_area": {"lat": walker["lat"], "lon": walker["lon"], "radius_km": walker["radius_km"]},
            "accepted_sizes": walker["accepted_sizes"],
            "verification": walker["verification"],
        },
        # an owner's home, its access secrets opened for the owner themselves (the export reads the key)
        "home": None if home is None else homes.opened(home),
        # what the user chose; event types not named here get the defaults
        "preferences": None
        if chosen is None
        else {
            "channels": chosen["channels"],
            "quiet_hours": None
            if chosen["quiet_start"] is None or chosen["quiet_end"] is None
            else {"start": chosen["quiet_start"].strftime("%H:%M"), "end": chosen["quiet_end"].strftime("%H:%M")},
            "timezone": chosen["timezone"],
        },
    }


def export_page(user_id: str, cursor: str | None = None, *, budget: int | None = None) -> dict[str, Any]:
    """One page of the user's export (see the module's docstring); NotFound for a deleted user."""
    limit = budget or settings().export_page_bytes
    start_section, after = _decode(cursor)
    with db.transaction() as conn:
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")  # one snapshot per page
        document: dict[str, Any] = {
            "exported_at": datetime.now(UTC).isoformat(),
            **_singletons(conn, user_id),
            **{section.name: [] for section in SECTIONS},
            "next_cursor": None,
        }
        used = _size(document) + _CURSOR_ALLOWANCE
        given = 0
        for index in range(start_section, len(SECTIONS)):
            section = SECTIONS[index]
            key = after if index == start_section else None
            while True:
                rows = conn.execute(
                    f"SELECT * FROM ({section.query}) s"  # noqa: S608  # nosec B608 - the queries are constants
                    " WHERE %(ts)s::timestamptz IS NULL OR (s._ts, s._id) > (%(ts)s::timestamptz, %(id)s::text)"
                    " ORDER BY s._ts, s._id LIMIT %(limit)s",
                    {"user": user_id, "ts": key[0] if key else None, "id": key[1] if key else None, "limit": CHUNK},
                ).fetchall()
                for row in rows:
                    item = section.shape(row)
                    size = _size(item) + 1  # and its comma
                    if given and used + size > limit:  # a page always carries at least one item
                        position = [index, *(_at(key[0]), key[1])] if key else [index, None, None]
                        document["next_cursor"] = encode_cursor(position)
                        return document
                    document[section.name].append(item)
                    used += size
                    given += 1
                    key = [row["_ts"], row["_id"]]
                if len(rows) < CHUNK:
                    break
    return document
