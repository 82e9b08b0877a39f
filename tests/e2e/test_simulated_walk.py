"""A walk end to end on `make run`, played by the phone simulator (`python -m local simulate-walk`):
its MQTT messages cross the real broker (the device policy enforced), the IoT-rule bridge, SQS
(moto) and the ingest function into PostgreSQL; an owner watching over the WebSocket sees the
positions move forward in time; the route and the summary match the track computed here by hand.
Then what flaky networks and strangers do: a redelivered batch, a poisoned message, another
walker publishing to this walk, a stranger subscribing."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import math
import subprocess
import sys
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from itertools import pairwise
from typing import Any
from urllib.parse import quote

import psycopg
import pytest
import requests
from PIL import Image
from websockets.sync.client import connect

from local.simulator import loop_track, phone_messages
from tests.conftest import REPO
from tests.e2e.conftest import RunningPlatform, http, sign_with_platform_key, wait_until

POINTS = 40


def haversine_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(math.sqrt(h))


def publish(platform: RunningPlatform, client_id: str, token: str, messages: list[tuple[str, dict[str, Any]]]) -> None:
    from amqtt.client import MQTTClient
    from amqtt.mqtt.constants import QOS_1

    async def run() -> None:
        client = MQTTClient(client_id=client_id)
        await client.connect(
            f"mqtt://{quote(client_id)}:{quote(token, safe='')}@127.0.0.1:{platform.env['DOGWALK_MQTT_PORT']}"
        )
        try:
            for topic, message in messages:
                await client.publish(topic, json.dumps(message).encode() if isinstance(message, dict) else message,
                                     qos=QOS_1)  # fmt: skip
        finally:
            await client.disconnect()

    asyncio.run(run())


def stored(platform: RunningPlatform, walk_id: str) -> dict[str, Any]:
    with psycopg.connect(platform.database_url, autocommit=True) as conn:
        row = conn.execute("SELECT points, distance_m, dropped FROM walks WHERE id = %s", (walk_id,)).fetchone()
    assert row is not None
    return {"points": row[0], "distance_m": row[1], "dropped": row[2]}


def seeded(platform: RunningPlatform, role: str) -> tuple[str, str]:
    """A user in the platform's database and a token signed with the platform's key."""
    user_id = str(uuid.uuid4())
    with psycopg.connect(platform.database_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO users (id, email, role, name, password_hash) VALUES (%s, %s, %s, 'E2E', 'x')",
            (user_id, f"{user_id}@example.com", role),
        )
    return user_id, sign_with_platform_key(platform, user_id, role)


@pytest.fixture(scope="module")
def simulated(platform: RunningPlatform, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The simulator's walk (left under way), and what an owner watching it live received."""
    command = [sys.executable, "-m", "local", "simulate-walk", "--points", str(POINTS), "--interval", "0.1",
               "--wait", "3", "--no-complete", "--json"]  # fmt: skip
    errors = (tmp_path_factory.mktemp("simulator") / "stderr.log").open("w+")
    process = subprocess.Popen(  # noqa: S603 - our own module
        command, cwd=REPO, env=platform.env, stdout=subprocess.PIPE, stderr=errors, text=True
    )
    assert process.stdout is not None
    demo: dict[str, Any] = {}
    for line in process.stdout:
        if line.startswith('{"demo"'):
            demo = json.loads(line)["demo"]
            break
    if not demo:
        process.wait(30)
        errors.seek(0)
        raise AssertionError(f"the simulator said nothing about its walk: {errors.read()[-3000:]}")
    received: list[dict[str, Any]] = []
    with connect(f"{platform.websocket_url}?token={demo['owner_token']}", open_timeout=10) as watching:
        watching.send(json.dumps({"action": "subscribe", "walk_id": demo["walk_id"]}))
        done = threading.Event()

        def read() -> None:
            while not done.is_set():
                try:
                    received.append(json.loads(watching.recv(timeout=1)))
                except TimeoutError:
                    continue

        reader = threading.Thread(target=read)
        reader.start()
        output, _ = process.communicate(timeout=120)
        wait_until(lambda: stored(platform, demo["walk_id"])["points"] >= POINTS - 2, 30, "the points stored")
        time.sleep(1)  # the last pushes
        done.set()
        reader.join()
    assert process.returncode == 0, output
    return {"demo": demo, "received": received}


def test_the_route_and_summary_match_the_track_computed_by_hand(platform: RunningPlatform, simulated) -> None:
    demo = simulated["demo"]
    route = http("GET", f"{platform.base}/v1/walks/{demo['walk_id']}/route", token=demo["owner_token"]).json()
    line = next(f for f in route["features"] if f["geometry"] and f["geometry"]["type"] == "LineString")
    coordinates = line["geometry"]["coordinates"]
    first_tst = (stored_first_tst := _first_tst(platform, demo["walk_id"]))
    # the phone's track, recomputed here: every point but the inaccurate ones, in time order
    phone = phone_messages(loop_track(first_tst, POINTS))
    kept = [p for p in phone.points if p["acc"] <= 100]
    expected = sum(haversine_m((a["lat"], a["lon"]), (b["lat"], b["lon"])) for a, b in pairwise(kept))
    summary = http("GET", f"{platform.base}/v1/walks/{demo['walk_id']}", token=demo["owner_token"]).json()

    assert [[round(p["lon"], 6), round(p["lat"], 6)] for p in kept] == [
        [round(x, 6), round(y, 6)] for x, y in coordinates
    ]
    assert summary["points"] == len(kept) == POINTS - 2 and stored_first_tst == kept[0]["tst"]
    assert abs(summary["distance_m"] - expected) <= 0.005 * expected
    assert summary["dropped"] == {"duplicate": 2, "inaccurate": 2}
    assert {k: v for k, v in summary["events"].items() if v} == {"pee": 1, "poo": 1, "water": 1, "photo": 1}


def _first_tst(platform: RunningPlatform, walk_id: str) -> int:
    with psycopg.connect(platform.database_url, autocommit=True) as conn:
        row = conn.execute("SELECT extract(epoch FROM min(ts))::bigint FROM walk_points WHERE walk_id = %s",
                           (walk_id,)).fetchone()  # fmt: skip
    assert row is not None
    return int(row[0])


def test_the_watching_owner_saw_the_walk_move_forward(simulated) -> None:
    positions = [m["tst"] for m in simulated["received"] if m["type"] == "position"]

    assert simulated["received"][0] == {"type": "subscribed", "walk_id": simulated["demo"]["walk_id"]}
    assert len(positions) >= POINTS - 2 - 8  # all but the batch buffered offline, which fills in the route
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    assert {m["event"] for m in simulated["received"] if m["type"] == "event"} == {"pee", "poo", "water", "photo"}


def test_the_simulators_photo_is_ready_without_its_gps_and_shows_on_the_report_card(
    platform: RunningPlatform, simulated
) -> None:
    """Its upload went as a multipart POST to moto's S3 over HTTP, the bucket's notification through SQS."""
    demo = simulated["demo"]
    [photo] = http("GET", f"{platform.base}/v1/walks/{demo['walk_id']}/photos", token=demo["owner_token"]).json()[
        "items"
    ]
    assert photo["status"] == "ready"
    image = requests.get(photo["url"], timeout=10)
    assert image.status_code == 200 and image.content.startswith(b"\xff\xd8\xff")
    with Image.open(io.BytesIO(image.content)) as opened:
        assert dict(opened.getexif()) == {} and "exif" not in opened.info and opened.size == (1200, 900)
    thumbnail = requests.get(photo["thumbnail_url"], timeout=10).content
    card = http("GET", f"{platform.base}/v1/walks/{demo['walk_id']}/report.svg", token=demo["owner_token"])
    [embedded] = ET.fromstring(card.body).iter("{http://www.w3.org/2000/svg}image")  # noqa: S314 - our own output
    assert embedded.get("href") == "data:image/jpeg;base64," + base64.b64encode(thumbnail).decode()


@pytest.mark.parametrize(
    ("declared", "data"),
    [("image/png", "jpeg"), ("image/jpeg", "text")],
    ids=["jpeg-declared-as-png", "text-file"],
)
def test_a_file_that_is_not_its_declared_image_type_is_rejected(
    platform: RunningPlatform, simulated, declared: str, data: str
) -> None:
    from local.simulator import demo_photo

    demo = simulated["demo"]
    body = demo_photo(40.78, -73.96) if data == "jpeg" else b"Biscuit was a very good dog today.\n"
    path = f"{platform.base}/v1/walks/{demo['walk_id']}/photos"
    granted = http("POST", path, {"content_type": declared, "size_bytes": len(body)}, token=demo["walker_token"])
    assert granted.status == 201, granted.body
    post = granted.json()["upload"]
    sent = requests.post(post["url"], data=post["fields"], files={"file": ("upload", body, declared)}, timeout=10)
    assert sent.status_code == 204, sent.text

    def decided() -> bool:
        items = http("GET", path, token=demo["owner_token"]).json()["items"]
        return next(p["status"] for p in items if p["id"] == granted.json()["id"]) != "pending"

    wait_until(decided, 30, "the photo check")
    items = http("GET", path, token=demo["owner_token"]).json()["items"]
    assert [p["status"] for p in items if p["id"] == granted.json()["id"]] == ["rejected"]


def test_strangers_get_404_on_the_photos_and_the_gpx(platform: RunningPlatform, simulated) -> None:
    demo = simulated["demo"]
    _, stranger = seeded(platform, "walker")
    _, other_owner = seeded(platform, "owner")
    path = f"{platform.base}/v1/walks/{demo['walk_id']}"
    body = {"content_type": "image/jpeg", "size_bytes": 100}
    assert http("POST", f"{path}/photos", body, token=stranger).status == 404
    for token in (stranger, other_owner):
        assert http("GET", f"{path}/photos", token=token).status == 404
        assert http("GET", f"{path}/route.gpx", token=token).status == 404
    gpx = http("GET", f"{path}/route.gpx", token=demo["owner_token"])
    assert gpx.status == 200 and gpx.headers["content-type"].startswith("application/gpx+xml")


def test_a_redelivered_batch_and_a_poisoned_message_change_nothing_else(platform: RunningPlatform, simulated) -> None:
    demo = simulated["demo"]
    topic = f"dogwalk/walks/{demo['walk_id']}/location"
    before = stored(platform, demo["walk_id"])
    track = phone_messages(loop_track(_first_tst(platform, demo["walk_id"]), POINTS))
    batch = next(message for _, message in track.messages if message.get("_type") == "batch")

    poisoned = [(topic, batch), (topic, b"\xff{not json"), (topic, {"_type": "location", "lat": 91})]
    publish(platform, demo["walker_id"], demo["walker_token"], poisoned)

    def counted() -> bool:
        return stored(platform, demo["walk_id"])["dropped"].get("malformed", 0) >= 1

    wait_until(counted, 30, "the poison counted")
    after = stored(platform, demo["walk_id"])
    assert after["points"] == before["points"] and after["distance_m"] == before["distance_m"]
    assert after["dropped"]["duplicate"] == before["dropped"]["duplicate"] + len(batch["points"])


def test_another_walker_cannot_publish_to_the_walk_nor_a_stranger_watch_it(
    platform: RunningPlatform, simulated
) -> None:
    demo = simulated["demo"]
    topic = f"dogwalk/walks/{demo['walk_id']}/location"
    intruder_id, intruder_token = seeded(platform, "walker")
    with psycopg.connect(platform.database_url, autocommit=True) as conn:
        last = conn.execute("SELECT extract(epoch FROM last_ts)::bigint, last_lat, last_lon FROM walks WHERE id = %s",
                            (demo["walk_id"],)).fetchone()  # fmt: skip
    assert last is not None
    # both plausible next points (a metre on, a few seconds later): only the policy can tell them apart
    forged = {"_type": "location", "lat": last[1] + 0.00001, "lon": last[2], "tst": last[0] + 5, "acc": 5}
    genuine = {"_type": "location", "lat": last[1] + 0.00002, "lon": last[2], "tst": last[0] + 6, "acc": 5}

    publish(platform, intruder_id, intruder_token, [(topic, forged)])
    publish(platform, demo["walker_id"], demo["walker_token"], [(topic, genuine)])  # lands after the forged one would

    def landed(tst: int) -> bool:
        with psycopg.connect(platform.database_url, autocommit=True) as conn:
            return conn.execute("SELECT 1 FROM walk_points WHERE walk_id = %s AND ts = to_timestamp(%s)",
                                (demo["walk_id"], tst)).fetchone() is not None  # fmt: skip

    wait_until(lambda: landed(genuine["tst"]), 30, "the walker's own point")
    assert not landed(forged["tst"])
    _, stranger_token = seeded(platform, "owner")
    with connect(f"{platform.websocket_url}?token={stranger_token}", open_timeout=10) as watching:
        watching.send(json.dumps({"action": "subscribe", "walk_id": demo["walk_id"]}))
        refused = json.loads(watching.recv(timeout=10))
        assert (refused["type"], refused["code"]) == ("error", "not_found")
        with pytest.raises(TimeoutError):
            watching.recv(timeout=2)


def test_the_owner_finds_the_walk_in_the_inbox(platform: RunningPlatform, simulated) -> None:
    """The platform's own fan-out: outbox → relay → SNS (moto) → the inbox queue → notify_inbox."""
    demo = simulated["demo"]

    def inbox() -> list[str]:
        answer = http("GET", f"{platform.base}/v1/notifications", token=demo["owner_token"]).json()
        return [item["event_type"] for item in answer["items"]]

    wait_until(lambda: "walk.started" in inbox(), 30, "walk.started in the owner's inbox")
    assert {"booking.accepted", "walk.started"} <= set(inbox())
