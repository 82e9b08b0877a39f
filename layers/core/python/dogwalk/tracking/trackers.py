"""A walker's stock tracker app as the phone of their walks: OwnTracks (HTTP or MQTT) and Overland.

`POST /v1/walkers/me/tracker` makes one long-lived credential per walker (another call replaces
it, `DELETE` revokes it), separate from the app's tokens: a random public username (`ot` and 20
hex digits: it is also a level of the MQTT topic `owntracks/<username>/<device>`) and a password
of 256 random bits, kept only as its SHA-256. A slow password hash (Argon2, as for people's
passwords) protects low-entropy secrets against a stolen table; a 256-bit random secret cannot
be guessed from its digest however fast the hash, and a phone in OwnTracks' move mode posts
every few seconds, each request would pay Argon2's ~50 ms. The refresh tokens are kept the same way.

Wrong credentials are counted per username and per source address (`ratelimit`); over either
limit the tracker is answered 429 before its password is even looked at.

What the trackers send goes through the phone ingest unchanged (`dogwalk.tracking.ingest`): an
OwnTracks `location` (HTTP: the body; MQTT: the topic rule on `owntracks/+/+`, `batches`) or an
Overland batch of GeoJSON Point features becomes points of the walker's walk in progress, with
the same filters; every other OwnTracks `_type` (transition, lwt, waypoint, status, card, ...) is
accepted and ignored, and with no walk in progress everything is accepted and dropped.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import math
import re
import secrets
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from dogwalk.adapters import db, ratelimit
from dogwalk.adapters.observability import logger
from dogwalk.adapters.ratelimit import Limit
from dogwalk.auth import suspensions
from dogwalk.errors import RateLimited, Unauthorized
from dogwalk.tracking import ingest, live

USERNAME = re.compile(r"ot[0-9a-f]{20}")
TOPIC = re.compile(r"^owntracks/(ot[0-9a-f]{20})/([^/]+)$")  # the topic rule's `owntracks/+/+`, our usernames
HTTP_PATH = "/v1/trackers/locations"
# Only failures count. Per username as login's per account; per address far higher than login's,
# as phones on mobile networks share addresses (carrier-grade NAT) and a stale phone retries for ever.
FAILURES_PER_USERNAME = Limit("tracker-username", 10, 15 * 60, fail_open=False)
FAILURES_PER_IP = Limit("tracker-ip", 300, 15 * 60, fail_open=False)
WRONG = "The tracker's username or password is wrong."


@dataclass(frozen=True)
class Issued:
    username: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class Tracker:
    """Whose tracker a verified credential is."""

    walker_id: str
    username: str


def _digest(password: str) -> bytes:
    return hashlib.sha256(password.encode("utf-8")).digest()


def issue(walker_id: str) -> Issued:
    """New credentials for the walker's tracker; the previous ones stop working at once."""
    issued = Issued("ot" + secrets.token_hex(10), secrets.token_urlsafe(32))
    with db.transaction() as conn:
        conn.execute(
            "INSERT INTO tracker_credentials (walker_id, username, secret_sha256) VALUES (%s, %s, %s)"
            " ON CONFLICT (walker_id) DO UPDATE SET username = EXCLUDED.username,"
            " secret_sha256 = EXCLUDED.secret_sha256, created_at = now()",
            (walker_id, issued.username, _digest(issued.password)),
        )
    return issued


def revoke(walker_id: str) -> None:
    with db.transaction() as conn:
        conn.execute("DELETE FROM tracker_credentials WHERE walker_id = %s", (walker_id,))


def basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    """The username and password of `Authorization: Basic <base64 user:password>` (OwnTracks), or of
    `Bearer <user>:<password>` (Overland sends its access token setting as a bearer token)."""
    scheme, _, value = (authorization or "").strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "basic":
        try:
            value = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
    elif scheme.lower() != "bearer":
        return None
    username, colon, password = value.partition(":")
    return (username, password) if colon and username and password else None


def verify(username: str, password: str, source_ip: str | None = None) -> Tracker:
    """The tracker these credentials are; Unauthorized (wrong, revoked, the walker suspended) or
    RateLimited (too many wrong ones for this username or from this address)."""
    subjects = [(FAILURES_PER_USERNAME, username[:64])]
    if source_ip:
        subjects.append((FAILURES_PER_IP, source_ip))
    for limit, subject in subjects:
        ratelimit.check(limit, subject)
    row = None
    if USERNAME.fullmatch(username):
        with db.transaction() as conn:
            row = conn.execute(
                "SELECT walker_id::text AS walker_id, secret_sha256 FROM tracker_credentials WHERE username = %s",
                (username,),
            ).fetchone()
    # compared even without a row, so an unknown username takes the time of a wrong password
    expected = bytes(row["secret_sha256"]) if row else bytes(32)
    if not hmac.compare_digest(_digest(password), expected) or row is None:
        for limit, subject in subjects:
            with contextlib.suppress(RateLimited):  # this failure filled the window: the next one is refused
                ratelimit.hit(limit, subject)
        raise Unauthorized(WRONG, code="invalid_credentials")
    if suspensions.is_suspended(row["walker_id"]):
        raise Unauthorized("This account is suspended.", code="account_suspended")
    return Tracker(row["walker_id"], username)


def walk_in_progress(walker_id: str) -> str | None:
    """The walker's walk under way (the latest started, should a forgotten one still be open)."""
    with db.transaction() as conn:
        row = conn.execute(
            "SELECT w.id::text AS id FROM walks w JOIN bookings b ON b.id = w.booking_id"
            " WHERE b.walker_id = %s AND b.status = 'in_progress' ORDER BY w.started_at DESC LIMIT 1",
            (walker_id,),
        ).fetchone()
    return row["id"] if row else None


def walks_of(usernames: Collection[str]) -> dict[str, str]:
    """Tracker username → its walker's walk in progress, for those that have one (one query)."""
    if not usernames:
        return {}
    with db.transaction() as conn:
        rows = conn.execute(
            "SELECT DISTINCT ON (t.username) t.username, w.id::text AS walk_id FROM tracker_credentials t"
            " JOIN bookings b ON b.walker_id = t.walker_id AND b.status = 'in_progress'"
            " JOIN walks w ON w.booking_id = b.id"
            " WHERE t.username = ANY(%s) ORDER BY t.username, w.started_at DESC",
            (sorted(usernames),),
        ).fetchall()
    return {row["username"]: row["walk_id"] for row in rows}


def is_location(message: Any) -> bool:
    """An OwnTracks message the walk wants: `_type` location; every other type is ignored."""
    return isinstance(message, dict) and message.get("_type") == "location"


def _parsed_instant(value: Any) -> datetime | None:
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return moment.astimezone(UTC).replace(microsecond=0)  # a point is (walk, second), as OwnTracks' `tst`


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def overland_point(feature: Any) -> ingest.Point | None:
    """One Overland GeoJSON Point feature as a point; None when it is not one. Speed is m/s (iOS:
    negative when unknown), battery a fraction, a negative horizontal accuracy an invalid fix."""
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        return None
    geometry, properties = feature.get("geometry"), feature.get("properties")
    if not isinstance(geometry, dict) or geometry.get("type") != "Point" or not isinstance(properties, dict):
        return None
    coordinates = geometry.get("coordinates")
    if not isinstance(coordinates, list) or len(coordinates) < 2:
        return None
    lon, lat = _number(coordinates[0]), _number(coordinates[1])
    moment = _parsed_instant(properties.get("timestamp"))
    if lat is None or lon is None or moment is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    accuracy = _number(properties.get("horizontal_accuracy"))
    if accuracy is not None and accuracy < 0:
        return None
    speed = _number(properties.get("speed"))
    battery = _number(properties.get("battery_level"))
    return ingest.Point(
        moment,
        lat,
        lon,
        accuracy,
        # km/h, as OwnTracks' `vel`; unknown when negative (iOS) or beyond any speed
        speed * 3.6 if speed is not None and 0 <= speed * 3.6 <= ingest.MAX_REPORTED_SPEED_KMH else None,
        round(battery * 100) if battery is not None and 0 <= battery <= 1 else None,
    )


def overland_points(document: dict[str, Any]) -> tuple[list[ingest.Point], int]:
    """The points of an Overland `{"locations": [...]}` batch, and how many features were not points."""
    features = document.get("locations")
    if not isinstance(features, list):
        return [], 1
    points = [point for point in map(overland_point, features) if point is not None]
    return points, len(features) - len(points)


def deliver(tracker: Tracker, points: list[ingest.Point], malformed: int = 0) -> ingest.Outcome | None:
    """Points of a tracker into its walker's walk in progress, through the phones' ingest, then to
    the live view; None when no walk is under way (they are dropped)."""
    walk_id = walk_in_progress(tracker.walker_id)
    if walk_id is None:
        if points or malformed:
            extra = {"walker_id": tracker.walker_id, "reason": "no_walk", "dropped": len(points) + malformed}
            logger.info("tracker points dropped: no walk in progress", extra=extra)
        return None
    outcome = ingest.ingest(walk_id, points, malformed=malformed)
    if outcome is not None:
        for reason, count in sorted(outcome.dropped.items()):
            logger.info("walk points dropped", extra={"walk_id": walk_id, "reason": reason, "dropped": count})
        live.publish(walk_id, ingest.live_messages(outcome))
    return outcome
