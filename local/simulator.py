"""A walker's phone, simulated against a running `make run`: `python -m local simulate-walk`.

It sets up a demo (an owner with a dog and a card, a verified walker available now), books a walk
through the HTTP API, has the walker accept and start it, then publishes a loop around a park over
MQTT with the walker's access token as the password, as a phone running OwnTracks would: one point
a second, some with poor accuracy, some sent twice, a few buffered "offline" and sent late as one
batch, and walk events. Then the walker app uploads one photo (a JPEG with the phone's EXIF GPS
position, sent as a multipart POST to the presigned URL, checked and cleaned by the photo check)
and logs it as a `photo` event; at the end the walker completes the walk with a note. It prints
the command that watches the walk live (`python -m local watch-walk`) and where the report card is.

`--client` picks the phone: `app` (the walker app, above: MQTT with the access token), or a stock
tracker app with tracker credentials (`POST /v1/walkers/me/tracker`) sending its own formats:
`owntracks-http` (one OwnTracks JSON message a POST, HTTP Basic, `[]` expected back), `owntracks-mqtt`
(`owntracks/<username>/phone`, the username and password as MQTT's), `overland` (GeoJSON batches,
`{"result":"ok"}` expected back). The trackers send the same track, their offline buffer as late
single points, plus the messages a stock app sends beside locations (status, transition, lwt),
which are accepted and ignored; the walk events (pee, poo, water) come from the walker app's HTTP
fallback, as stock trackers have no such messages.

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
CLIENTS = ("app", "owntracks-http", "owntracks-mqtt", "overland")
OVERLAND_BATCH = 10  # points per Overland POST (the app's own default is 200)
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

    def call(
        self, method: str, path: str, body: Any = None, token: str | None = None, authorization: str | None = None
    ) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        url = path if path.startswith(("http://", "https://")) else self.base + path
        request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - our own URL
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        elif authorization:
            request.add_header("Authorization", authorization)
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


def tracker_feed(phone: Phone) -> list[tuple[str, dict[str, Any]]]:
    """What a stock tracker sends of the phone's messages, in order: ("location", an OwnTracks
    location) with the offline batch as late single points (OwnTracks queues and sends them one by
    one), ("event", a walk event, for the app's HTTP fallback) and ("other", a message of another
    `_type`, with the subtopic OwnTracks publishes it to) that the platform ignores."""
    first = phone.points[0]["tst"] if phone.points else int(time.time())
    feed: list[tuple[str, dict[str, Any]]] = [
        ("other", {"_type": "status", "iOS": {"backgroundRefreshStatus": "UIBackgroundRefreshStatusAvailable"},
                   "_subtopic": "status"}),
        ("other", {"_type": "waypoint", "desc": "Great Lawn", "lat": PARK[0], "lon": PARK[1], "rad": 150,
                   "tst": first - 86400, "_subtopic": "waypoint"}),
    ]  # fmt: skip
    for kind, message in phone.messages:
        if kind == "event":
            feed.append(("event", message))
        elif message.get("_type") == "batch":
            feed += [("location", point) for point in message["points"]]
        else:
            feed.append(("location", message))
    feed.insert(len(feed) // 2, ("other", {"_type": "transition", "event": "enter", "desc": "Great Lawn", "t": "c",
                                           "lat": PARK[0], "lon": PARK[1], "acc": 10, "tst": first + 30,
                                           "wtst": first - 86400, "tid": "sm", "_subtopic": "event"}))  # fmt: skip
    return feed


def overland_feature(point: dict[str, Any]) -> dict[str, Any]:
    """An OwnTracks-shaped point as Overland posts it (GeoJSON; speed m/s, battery 0-1)."""
    moment = datetime.fromtimestamp(point["tst"], UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [point["lon"], point["lat"]]},
            "properties": {"timestamp": moment, "altitude": 30, "speed": round(point.get("vel", 0) / 3.6, 2),
                           "horizontal_accuracy": point.get("acc", 10), "vertical_accuracy": 4, "motion": ["walking"],
                           "battery_state": "unplugged", "battery_level": point.get("batt", 80) / 100,
                           "device_id": "sim", "wifi": ""}}  # fmt: skip


def _basic(tracker: dict[str, Any]) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{tracker['username']}:{tracker['password']}".encode()).decode()


def send_as_tracker(client: str, http: Http, mqtt_url: str, demo: Demo, feed: list[tuple[str, dict[str, Any]]],
                    interval_s: float) -> None:  # fmt: skip
    """Send the feed as the stock app `client` would, with fresh tracker credentials."""
    tracker = http.call("POST", "/v1/walkers/me/tracker", token=demo.walker_token)
    print(f"tracker credentials: username {tracker['username']}, {client} to "
          f"{tracker['http_url'] if client != 'owntracks-mqtt' else tracker['mqtt']}")  # fmt: skip
    app_events = [message for kind, message in feed if kind == "event"]
    if client == "owntracks-mqtt":
        asyncio.run(publish_owntracks(mqtt_url, tracker, feed, interval_s))
    elif client == "owntracks-http":
        for kind, message in feed:
            if kind == "event":
                continue
            body = {k: v for k, v in message.items() if k != "_subtopic"}
            answer = http.call("POST", tracker["http_url"], body, authorization=_basic(tracker))
            if answer != []:
                raise RuntimeError(f"OwnTracks expects a JSON array back, got {answer!r}")
            time.sleep(interval_s)
    else:  # overland: its batches of locations, nothing else
        points = [message for kind, message in feed if kind == "location"]
        bearer = f"Bearer {tracker['username']}:{tracker['password']}"
        for start in range(0, len(points), OVERLAND_BATCH):
            batch = {"locations": [overland_feature(p) for p in points[start : start + OVERLAND_BATCH]]}
            answer = http.call("POST", tracker["http_url"], batch, authorization=bearer)
            if answer != {"result": "ok"}:
                raise RuntimeError(f"Overland keeps a batch unless answered {{'result': 'ok'}}, got {answer!r}")
            time.sleep(interval_s * OVERLAND_BATCH)
    for event in app_events:  # the walker app's own messages
        http.call("POST", f"/v1/walks/{demo.walk_id}/locations", event, token=demo.walker_token)


def demo_photo(lat: float, lon: float) -> bytes:
    """A phone's JPEG of the walk: a dog on the lawn, with the EXIF a phone writes (camera, time,
    and the GPS position, which the platform strips)."""
    import io

    from PIL import ExifTags, Image, ImageDraw

    picture = Image.new("RGB", (1200, 900), (135, 190, 235))
    draw = ImageDraw.Draw(picture)
    draw.rectangle((0, 560, 1200, 900), fill=(88, 160, 72))
    draw.ellipse((930, 80, 1080, 230), fill=(250, 214, 90))
    for x in (120, 330, 980):  # trees
        draw.rectangle((x + 40, 380, x + 70, 580), fill=(110, 78, 50))
        draw.ellipse((x - 20, 250, x + 130, 430), fill=(46, 120, 60))
    brown = (150, 100, 60)
    draw.ellipse((460, 560, 760, 700), fill=brown)  # the dog: body, head, ear, legs, tail
    draw.ellipse((700, 480, 830, 600), fill=brown)
    draw.ellipse((770, 470, 820, 560), fill=(110, 70, 40))
    for x in (490, 540, 670, 720):
        draw.rectangle((x, 660, x + 28, 760), fill=brown)
    draw.line((465, 600, 400, 540), fill=brown, width=22)
    draw.ellipse((775, 515, 790, 530), fill=(20, 20, 20))
    exif = Image.Exif()
    exif[ExifTags.Base.Make], exif[ExifTags.Base.Model] = "Apple", "iPhone 15"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N" if lat >= 0 else "S", ExifTags.GPS.GPSLatitude: _dms(lat),
        ExifTags.GPS.GPSLongitudeRef: "E" if lon >= 0 else "W", ExifTags.GPS.GPSLongitude: _dms(lon),
    }  # fmt: skip
    out = io.BytesIO()
    picture.save(out, format="JPEG", quality=90, exif=exif)
    return out.getvalue()


def _dms(degrees: float) -> tuple[float, float, float]:
    whole, rest = divmod(abs(degrees) * 3600, 3600)
    minutes, seconds = divmod(rest, 60)
    return float(whole), float(minutes), round(seconds, 2)


def upload_photo(http: Http, demo: Demo, at: dict[str, Any], wait_s: float = 20) -> str:
    """As the walker app: ask for an upload, POST the photo to the presigned URL (multipart form),
    log the photo event, and wait until the photo check has decided; the photo's status."""
    import requests

    data = demo_photo(at["lat"], at["lon"])
    granted = http.call("POST", f"/v1/walks/{demo.walk_id}/photos",
                        {"content_type": "image/jpeg", "size_bytes": len(data)}, token=demo.walker_token)  # fmt: skip
    post = granted["upload"]
    sent = requests.post(post["url"], data=post["fields"], files={"file": ("walk.jpg", data, "image/jpeg")}, timeout=30)
    if sent.status_code not in (200, 201, 204):
        raise RuntimeError(f"the photo upload answered {sent.status_code}: {sent.text[:300]}")
    # at the point's time, unless that is still ahead (a fast simulation): events too must be inside the walk
    tst = min(int(at["tst"]), int(time.time()))
    event = {"type": "photo", "tst": tst, "lat": at["lat"], "lon": at["lon"], "photo_id": granted["id"]}
    http.call("POST", f"/v1/walks/{demo.walk_id}/locations", event, token=demo.walker_token)
    deadline = time.monotonic() + wait_s
    status = "pending"
    while status == "pending" and time.monotonic() < deadline:
        time.sleep(0.5)
        found = http.call("GET", f"/v1/walks/{demo.walk_id}/photos", token=demo.walker_token)["items"]
        status = next(item["status"] for item in found if item["id"] == granted["id"])
    print(f"photo {granted['id']}: {status}")
    return str(status)


async def publish_owntracks(mqtt_url: str, tracker: dict[str, Any], feed: list[tuple[str, dict[str, Any]]],
                            interval_s: float) -> None:  # fmt: skip
    """OwnTracks in MQTT mode: client id `<user><device>`, `owntracks/<user>/<device>` (subtopics for the rest)."""
    from amqtt.client import MQTTClient
    from amqtt.mqtt.constants import QOS_1

    host = mqtt_url.split("://", 1)[-1].rsplit("@", 1)[-1]
    username = tracker["username"]
    client = MQTTClient(client_id=f"{username}phone")
    await client.connect(f"mqtt://{quote(username)}:{quote(tracker['password'], safe='')}@{host}")
    try:
        base = f"owntracks/{username}/phone"
        for kind, message in feed:
            if kind == "event":
                continue
            subtopic = message.get("_subtopic")
            body = {k: v for k, v in message.items() if k != "_subtopic"}
            await client.publish(f"{base}/{subtopic}" if subtopic else base, json.dumps(body).encode(), qos=QOS_1)
            await asyncio.sleep(interval_s)
    finally:
        await client.disconnect()


def simulate(base: str, mqtt_url: str, ws_url: str, points: int, interval_s: float, wait_s: float,
             complete: bool, as_json: bool = False, client: str = "app") -> Demo:  # fmt: skip
    if client not in CLIENTS:
        raise ValueError(f"client must be one of {', '.join(CLIENTS)}")
    http = Http(base)
    demo = set_up(http)
    print(f"walk {demo.walk_id} under way (booking {demo.booking_id}); watch it live in another terminal:")
    print(f"  .venv/bin/python -m local watch-walk {demo.walk_id} --token {demo.owner_token} --ws {ws_url}")
    if as_json:  # for scripts and tests: who is who (local tokens, 15 minutes' life)
        print(json.dumps({"demo": asdict(demo)}))
    sys.stdout.flush()
    time.sleep(wait_s)
    phone = phone_messages(loop_track(int(time.time()), points))
    if client == "app":
        print(f"publishing {len(phone.messages)} messages ({points} points, 3 events) to {demo.mqtt_topic} ...")
        asyncio.run(publish(mqtt_url, demo, phone, interval_s))
    else:
        print(f"sending {points} points as {client}, 3 events from the walker app ...")
        send_as_tracker(client, http, mqtt_url, demo, tracker_feed(phone), interval_s)
    time.sleep(2)  # the queue's consumer takes a moment
    upload_photo(http, demo, phone.points[len(phone.points) * 2 // 3] if phone.points else {
        "lat": PARK[0], "lon": PARK[1], "tst": int(time.time())})  # fmt: skip
    if complete:
        note = {"note": "Biscuit loved the Great Lawn: lots of sniffing, one squirrel chase, and a big drink after."}
        http.call("POST", f"/v1/bookings/{demo.booking_id}/complete", note, token=demo.walker_token)
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
