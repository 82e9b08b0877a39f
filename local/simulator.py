"""A walker's phone, simulated against a running `make run`: `python -m local simulate-walk`.

It sets up a demo (an owner with a dog and a card, a verified walker available now), books a walk
through the HTTP API, has the walker accept and start it, then publishes a loop around a park over
MQTT with the walker's access token as the password, as a phone running OwnTracks would: one point
a second, some with poor accuracy, some sent twice, a few buffered "offline" and sent late as one
batch, and walk events. At the end the walker completes the walk. It prints the command that
watches the walk live (`python -m local watch-walk`) and where the report card is.

Setting the demo up needs an admin to verify the walker: the simulator makes one in the local
database (it is a local tool, with the local platform's own database) and uses the API as it.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

PARK = (40.7812, -73.9665)  # the Great Lawn, Central Park
STEP_M = 4.0  # a brisk walk: 4 m a second, 14 km/h


@dataclass
class Phone:
    """The points the phone records (`sent`) and the order it publishes them in (`messages`)."""

    points: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    messages: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


def loop_track(start_tst: int, count: int, seed: int = 7) -> list[dict[str, Any]]:
    """A closed loop around the park, `STEP_M` metres a second, with a little GPS wobble."""
    rng = random.Random(seed)  # noqa: S311  # nosec B311 - GPS wobble, not a secret
    radius_m = STEP_M * count / (2 * math.pi)
    metres_per_deg_lat = 111_132.0
    metres_per_deg_lon = metres_per_deg_lat * math.cos(math.radians(PARK[0]))
    points = []
    for i in range(count):
        angle = 2 * math.pi * i / count
        north = radius_m * math.sin(angle) + rng.uniform(-0.5, 0.5)
        east = radius_m * math.cos(angle) - radius_m + rng.uniform(-0.5, 0.5)
        points.append({"_type": "location", "lat": round(PARK[0] + north / metres_per_deg_lat, 7),
                       "lon": round(PARK[1] + east / metres_per_deg_lon, 7), "tst": start_tst + i,
                       "acc": rng.randint(4, 15), "vel": 14, "batt": 90 - i // 60, "tid": "sm"})  # fmt: skip
    return points


def phone_messages(track: list[dict[str, Any]]) -> Phone:
    """How a flaky phone sends the track: every 17th point inaccurate (150 m, dropped), every 11th
    sent twice, points 20-27 buffered offline and sent as one batch after point 35; three events."""
    phone = Phone()
    held: list[dict[str, Any]] = []
    for i, point in enumerate(track):
        if i % 17 == 16:
            point = {**point, "acc": 150}
        phone.points.append(point)
        for fraction, kind in ((0.25, "pee"), (0.5, "poo"), (0.75, "water")):
            if i == int(len(track) * fraction):
                event = {"type": kind, "tst": point["tst"], "lat": point["lat"], "lon": point["lon"]}
                phone.events.append(event)
                phone.messages.append(("event", event))
        if 20 <= i < 28:
            held.append(point)
            continue
        phone.messages.append(("location", point))
        if i % 11 == 10:
            phone.messages.append(("location", point))
        if i == 35 and held:
            phone.messages.append(("location", {"_type": "batch", "points": held}))
    return phone


class Http:
    def __init__(self, base: str):
        self.base = base.rstrip("/")

    def call(self, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)  # noqa: S310 - our own URL
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310  # nosec B310
                payload = answer.read()
        except urllib.error.HTTPError as exc:
            raise RuntimeError(f"{method} {path} answered {exc.code}: {exc.read().decode()[:500]}") from None
        return json.loads(payload) if payload else None


def _timezone_at_noon(now: datetime) -> str:
    """A zone where it is around midday now, so that the demo walk sits inside the walker's day."""
    offset = max(-12, min(12, now.hour - 12))
    return f"Etc/GMT{'+' if offset >= 0 else '-'}{abs(offset)}"


def _admin_token() -> str:
    """An admin of the local database, made for the demo (the platform's own data, locally)."""
    import psycopg

    from dogwalk.auth.tokens import issue_access_token
    from dogwalk.config import settings

    admin_id = str(uuid.uuid4())
    with psycopg.connect(settings().database_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO users (id, email, role, name, password_hash) VALUES (%s, %s, 'admin', 'Demo admin', 'x')",
            (admin_id, f"demo-admin-{admin_id[:8]}@dogwalk.local"),
        )
    return issue_access_token(admin_id, "admin")[0]


@dataclass(frozen=True)
class Demo:
    owner_token: str
    walker_id: str
    walker_token: str
    booking_id: str
    walk_id: str
    mqtt_topic: str


def set_up(http: Http) -> Demo:
    """Owner, walker, dog, card, booking; accepted and started: the walk is under way."""
    now = datetime.now(UTC)
    password = f"demo walk {uuid.uuid4().hex}"
    tag = uuid.uuid4().hex[:8]
    owner = http.call("POST", "/v1/auth/register", {"email": f"owner-{tag}@dogwalk.local", "password": password,
                                                    "role": "owner", "name": "Sam Owner"})  # fmt: skip
    walker = http.call("POST", "/v1/auth/register", {"email": f"walker-{tag}@dogwalk.local", "password": password,
                                                     "role": "walker", "name": "Alex Walker"})  # fmt: skip
    owner_token, walker_token = owner["access_token"], walker["access_token"]
    http.call("PUT", "/v1/walkers/me/profile", {
        "bio": "Demo walker", "price_cents_per_30min": 2000, "max_dogs": 3, "accepted_sizes": ["small", "medium"],
        "service_area": {"lat": PARK[0], "lon": PARK[1], "radius_km": 5.0}, "timezone": _timezone_at_noon(now),
    }, token=walker_token)  # fmt: skip
    every_day = [{"weekday": day, "start": "06:00", "end": "18:00"} for day in range(7)]
    http.call("PUT", "/v1/walkers/me/availability", {"weekly": every_day}, token=walker_token)
    http.call("POST", "/v1/walkers/me/verification",
              {"documents": [{"kind": "id_document", "reference": "demo"}]}, token=walker_token)  # fmt: skip
    http.call("POST", f"/v1/admin/verifications/{walker['user']['id']}", {"decision": "approve"}, token=_admin_token())
    dog = http.call("POST", "/v1/dogs", {"name": "Biscuit", "size": "medium", "vaccinated": True}, token=owner_token)
    card = http.call("POST", "/v1/payments/methods", {"gateway_token": "pm_card_visa"}, token=owner_token)  # nosec B105 - a Stripe test card
    start = (now + timedelta(minutes=10)).replace(second=0, microsecond=0)
    booking = http.call("POST", "/v1/bookings", {
        "walker_id": walker["user"]["id"], "dog_ids": [dog["id"]], "start": start.isoformat(), "duration_min": 30,
        "pickup": {"lat": PARK[0], "lon": PARK[1], "address": "Great Lawn"}, "payment_method_id": card["id"],
    }, token=owner_token)  # fmt: skip
    http.call("POST", f"/v1/bookings/{booking['id']}/accept", token=walker_token)
    started = http.call("POST", f"/v1/bookings/{booking['id']}/start", token=walker_token)
    return Demo(owner_token, walker["user"]["id"], walker_token, booking["id"], started["walk"]["id"],
                started["walk"]["mqtt_topic"])  # fmt: skip


async def publish(mqtt_url: str, demo: Demo, phone: Phone, interval_s: float) -> None:
    """Publish as the walker's phone (QoS 1), `interval_s` apart."""
    from amqtt.client import MQTTClient
    from amqtt.mqtt.constants import QOS_1

    host = mqtt_url.split("://", 1)[-1].rsplit("@", 1)[-1]
    client = MQTTClient(client_id=demo.walker_id)
    await client.connect(f"mqtt://{quote(demo.walker_id)}:{quote(demo.walker_token, safe='')}@{host}")
    try:
        base = f"dogwalk/walks/{demo.walk_id}"
        for kind, message in phone.messages:
            await client.publish(f"{base}/{kind}", json.dumps(message).encode(), qos=QOS_1)
            await asyncio.sleep(interval_s)
    finally:
        await client.disconnect()


def simulate(base: str, mqtt_url: str, ws_url: str, points: int, interval_s: float, wait_s: float,
             complete: bool, as_json: bool = False) -> Demo:  # fmt: skip
    http = Http(base)
    demo = set_up(http)
    print(f"walk {demo.walk_id} under way (booking {demo.booking_id}); watch it live in another terminal:")
    print(f"  .venv/bin/python -m local watch-walk {demo.walk_id} --token {demo.owner_token} --ws {ws_url}")
    if as_json:  # for scripts and tests: who is who (local tokens, 15 minutes' life)
        print(json.dumps({"demo": asdict(demo)}))
    sys.stdout.flush()
    time.sleep(wait_s)
    phone = phone_messages(loop_track(int(time.time()), points))
    print(f"publishing {len(phone.messages)} messages ({points} points, 3 events) to {demo.mqtt_topic} ...")
    asyncio.run(publish(mqtt_url, demo, phone, interval_s))
    time.sleep(2)  # the queue's consumer takes a moment
    if complete:
        http.call("POST", f"/v1/bookings/{demo.booking_id}/complete", token=demo.walker_token)
    summary = http.call("GET", f"/v1/walks/{demo.walk_id}", token=demo.owner_token)
    print(f"walk {summary['status']}: {summary['points']} points, {summary['distance_m']:.0f} m, "
          f"dropped {summary['dropped']}, events {summary['events']}")  # fmt: skip
    print("the report card:")
    print(f"  curl -H 'Authorization: Bearer {demo.owner_token}' {base}/v1/walks/{demo.walk_id}/report.svg"
          " -o report.svg")  # fmt: skip
    return demo


async def watch(ws_url: str, walk_id: str, token: str) -> None:
    """Print what the live view pushes for the walk until it completes."""
    import aiohttp

    async with aiohttp.ClientSession() as session, session.ws_connect(f"{ws_url}?token={quote(token)}") as socket:
        await socket.send_json({"action": "subscribe", "walk_id": walk_id})
        async for frame in socket:
            if frame.type != aiohttp.WSMsgType.TEXT:
                break
            message = json.loads(frame.data)
            print(json.dumps(message), flush=True)
            if message.get("type") in ("walk_completed", "error"):
                break
