"""Stock tracker apps end to end on the session's platform (`python -m local run`, issue 16): the
simulator as OwnTracks (HTTP and MQTT) and Overland, then stock-format sequences by hand — over
HTTP through the local gateway, over MQTT with paho (the client library OwnTracks' Android app is
built on) through the broker's device policy, the topic rule `owntracks/+/+`, SQS and the ingest.

Formats from the apps' documentation: OwnTracks booklet (github.com/owntracks/booklet)
docs/tech/json.md (`_type` location, transition, lwt, waypoint, status; "Topics") and
docs/tech/http.md ("HTTP": Basic auth, a JSON array back); Overland-iOS (github.com/aaronpk/
Overland-iOS) README.md "API" (the `locations` GeoJSON batch) and "Response" (`{"result":"ok"}`).
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from typing import Any

import psycopg
import pytest

from tests.conftest import REPO
from tests.e2e.conftest import Reply, RunningPlatform, http, wait_until

POINTS = 40
KEPT = POINTS - 2  # the simulator's phone: two points of 150 m accuracy
CLIENTS = ("owntracks-http", "owntracks-mqtt", "overland")


def post(url: str, body: Any, authorization: str | None = None, raw: bytes | None = None) -> Reply:
    import urllib.error
    import urllib.request

    data = raw if raw is not None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="POST")  # noqa: S310 - loopback only
    request.add_header("Content-Type", "application/json")
    if authorization:
        request.add_header("Authorization", authorization)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
            return Reply(answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read())
    except urllib.error.HTTPError as error:
        return Reply(error.code, {k.lower(): v for k, v in error.headers.items()}, error.read())


def basic(tracker: dict[str, Any], password: str | None = None) -> str:
    secret = tracker["password"] if password is None else password
    return "Basic " + base64.b64encode(f"{tracker['username']}:{secret}".encode()).decode()


def walk_state(platform: RunningPlatform, walk_id: str) -> dict[str, Any]:
    with psycopg.connect(platform.database_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT points, dropped, events, extract(epoch FROM last_ts)::bigint, last_lat, last_lon FROM walks"
            " WHERE id = %s",
            (walk_id,),
        ).fetchone()
        stamps = conn.execute(
            "SELECT extract(epoch FROM ts)::bigint FROM walk_points WHERE walk_id = %s ORDER BY ts", (walk_id,)
        ).fetchall()
    assert row is not None
    return {"points": row[0], "dropped": row[1], "events": row[2], "last": (row[3], row[4], row[5]),
            "stamps": [s[0] for s in stamps]}  # fmt: skip


def credentials(platform: RunningPlatform, demo: dict[str, Any]) -> dict[str, Any]:
    answer = post(f"{platform.base}/v1/walkers/me/tracker", None, f"Bearer {demo['walker_token']}", raw=b"")
    assert answer.status == 201, answer.body
    tracker: dict[str, Any] = answer.json()
    return tracker


@pytest.fixture(scope="module")
def simulated(platform: RunningPlatform) -> dict[str, dict[str, Any]]:
    """One simulated walk per stock client (left under way), the simulator's output with it."""
    walks = {}
    for client in CLIENTS:
        command = [sys.executable, "-m", "local", "simulate-walk", "--client", client, "--points", str(POINTS),
                   "--interval", "0.02", "--wait", "0", "--no-complete", "--json"]  # fmt: skip
        done = subprocess.run(command, cwd=REPO, env=platform.env, capture_output=True, text=True, timeout=180)  # noqa: S603
        assert done.returncode == 0, done.stderr[-3000:]
        [line] = [line for line in done.stdout.splitlines() if line.startswith('{"demo"')]
        walks[client] = {"demo": json.loads(line)["demo"], "output": done.stdout}
    return walks


@pytest.mark.parametrize("client", CLIENTS)
def test_the_simulator_walks_as_a_stock_tracker(platform: RunningPlatform, simulated, client: str) -> None:
    walk_id = simulated[client]["demo"]["walk_id"]
    wait_until(lambda: walk_state(platform, walk_id)["points"] >= KEPT, 30, f"{client}'s points stored")

    state = walk_state(platform, walk_id)
    assert state["points"] == KEPT == len(state["stamps"])
    assert state["dropped"] == {"duplicate": 2, "inaccurate": 2}  # the same filters as the app's
    # the three walk events of the track, and the photo the simulator uploads at the end
    assert {k: v for k, v in state["events"].items() if v} == {"pee": 1, "poo": 1, "water": 1, "photo": 1}
    assert "tracker credentials: username ot" in simulated[client]["output"]


def test_a_stock_owntracks_http_sequence_gets_arrays_and_only_its_locations_count(
    platform: RunningPlatform, simulated
) -> None:
    demo = simulated["owntracks-http"]["demo"]
    tracker = credentials(platform, demo)
    before = walk_state(platform, demo["walk_id"])
    tst, lat, lon = before["last"]
    sequence = [
        {"_type": "location", "lat": lat + 0.00002, "lon": lon, "tst": tst + 5, "acc": 5, "batt": 77, "bs": 1,
         "conn": "w", "tid": "sm", "m": 2, "t": "u", "vel": 4, "SSID": "park", "BSSID": "b0:a7:b9:00:00:01",
         "created_at": tst + 6, "topic": f"owntracks/{tracker['username']}/phone", "_id": "a1b2c3d4"},
        {"_type": "transition", "wtst": tst - 3600, "lat": lat, "lon": lon, "tst": tst + 6, "acc": 10, "tid": "sm",
         "event": "leave", "desc": "Great Lawn", "t": "c"},
        {"_type": "lwt", "tst": tst - 120},
        {"_type": "waypoint", "desc": "Home", "lat": lat, "lon": lon, "rad": 50, "tst": tst - 7200},
        {"_type": "status", "android": {"hib": 1, "bo": 1, "loc": 3, "ps": 0, "wifi": 1}},
        {"_type": "location", "lat": lat + 0.00004, "lon": lon, "tst": tst + 10, "acc": 6, "tid": "sm"},
    ]  # fmt: skip

    answers = [post(tracker["http_url"], message, basic(tracker)) for message in sequence]

    assert [(a.status, a.json()) for a in answers] == [(200, [])] * len(sequence)
    after = walk_state(platform, demo["walk_id"])
    assert after["stamps"] == [*before["stamps"], tst + 5, tst + 10]
    assert after["dropped"] == before["dropped"] and after["events"] == before["events"]


def test_the_same_over_mqtt_with_paho_and_another_users_topic_is_refused(platform: RunningPlatform, simulated) -> None:
    import paho.mqtt.client as mqtt

    mine, theirs = simulated["owntracks-mqtt"]["demo"], simulated["owntracks-http"]["demo"]
    tracker, victim = credentials(platform, mine), credentials(platform, theirs)
    before, victims_before = walk_state(platform, mine["walk_id"]), walk_state(platform, theirs["walk_id"])
    tst, lat, lon = before["last"]
    vtst, vlat, vlon = victims_before["last"]
    base = f"owntracks/{tracker['username']}/phone"
    # a plausible next point of the other walk: only the device policy can tell it from a genuine one
    forged = {"_type": "location", "lat": vlat + 0.00001, "lon": vlon, "tst": vtst + 3, "acc": 5}
    messages = [
        (f"owntracks/{victim['username']}/phone", forged),
        (base, {"_type": "location", "lat": lat + 0.00002, "lon": lon, "tst": tst + 5, "acc": 5, "tid": "sm"}),
        (base, {"_type": "lwt", "tst": tst - 60}),
        (f"{base}/event", {"_type": "transition", "event": "enter", "desc": "Park", "lat": lat, "lon": lon,
                           "tst": tst + 6, "wtst": tst - 3600, "acc": 8, "t": "c"}),
        (f"{base}/waypoint", {"_type": "waypoint", "desc": "Park", "lat": lat, "lon": lon, "rad": 80,
                              "tst": tst - 3600}),
        (f"{base}/status", {"_type": "status", "iOS": {"backgroundRefreshStatus": "Available"}}),
        (base, {"_type": "location", "lat": lat + 0.00004, "lon": lon, "tst": tst + 10, "acc": 6, "tid": "sm"}),
    ]  # fmt: skip

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{tracker['username']}phone",
                         protocol=mqtt.MQTTv311)  # fmt: skip
    client.username_pw_set(tracker["username"], tracker["password"])
    assert client.connect("127.0.0.1", int(platform.env["DOGWALK_MQTT_PORT"])) == mqtt.MQTT_ERR_SUCCESS
    client.loop_start()
    try:
        for topic, message in messages:
            client.publish(topic, json.dumps(message), qos=1).wait_for_publish(10)
        # the victim's own phone next, on its own topic: it lands after the forged one would have
        genuine = {"_type": "location", "lat": vlat + 0.00002, "lon": vlon, "tst": vtst + 4, "acc": 5}
        post(victim["http_url"], genuine, basic(victim))
    finally:
        client.disconnect()
        client.loop_stop()

    wait_until(lambda: len(walk_state(platform, mine["walk_id"])["stamps"]) >= len(before["stamps"]) + 2, 30,
               "the MQTT locations stored")  # fmt: skip
    after = walk_state(platform, mine["walk_id"])
    assert after["stamps"] == [*before["stamps"], tst + 5, tst + 10]
    assert after["dropped"] == before["dropped"]
    assert walk_state(platform, theirs["walk_id"])["stamps"] == [*victims_before["stamps"], vtst + 4]


def test_a_wrong_password_a_foreign_client_id_cannot_connect_over_mqtt(platform: RunningPlatform, simulated) -> None:
    import paho.mqtt.client as mqtt

    tracker = credentials(platform, simulated["owntracks-mqtt"]["demo"])
    outcomes = []
    for password, client_id in (("wrong", f"{tracker['username']}phone"), (tracker["password"], "someone-else")):
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311)
        client.username_pw_set(tracker["username"], password)
        connected: list[Any] = []
        client.on_connect = lambda c, u, flags, reason, props, seen=connected: seen.append(reason)
        client.connect("127.0.0.1", int(platform.env["DOGWALK_MQTT_PORT"]))
        client.loop_start()
        wait_until(lambda seen=connected: bool(seen), 10, "the CONNACK")
        client.loop_stop()
        outcomes.append(connected[0].is_failure)
    assert outcomes == [True, True]


def test_an_overland_batch_is_ok_and_stored(platform: RunningPlatform, simulated) -> None:
    demo = simulated["overland"]["demo"]
    tracker = credentials(platform, demo)
    before = walk_state(platform, demo["walk_id"])
    tst, lat, lon = before["last"]

    def feature(seconds: int, north: float) -> dict[str, Any]:
        from datetime import UTC, datetime

        moment = datetime.fromtimestamp(tst + seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")
        return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat + north]},
                "properties": {"timestamp": moment, "altitude": 12, "speed": 1.2, "horizontal_accuracy": 6,
                               "vertical_accuracy": 3, "motion": ["walking"], "battery_state": "unplugged",
                               "battery_level": 0.61, "wifi": "", "device_id": "e2e"}}  # fmt: skip

    batch = {"locations": [feature(5, 0.00002), feature(10, 0.00004), feature(15, 0.00006)], "trip": {"mode": "walk"}}
    answer = post(tracker["http_url"], batch, f"Bearer {tracker['username']}:{tracker['password']}")

    assert (answer.status, answer.json()) == (200, {"result": "ok"})
    assert walk_state(platform, demo["walk_id"])["stamps"] == [*before["stamps"], tst + 5, tst + 10, tst + 15]


def test_bad_revoked_and_too_many_credentials_and_no_walk_in_progress(platform: RunningPlatform, simulated) -> None:
    demo = simulated["overland"]["demo"]
    tracker = credentials(platform, demo)
    location = {
        "_type": "location",
        "lat": 40.78,
        "lon": -73.96,
        "tst": walk_state(platform, demo["walk_id"])["last"][0],
    }
    url = tracker["http_url"]

    wrong = post(url, location, basic(tracker, "wrong"))
    none = post(url, location)
    assert (wrong.status, none.status) == (401, 401)
    assert wrong.headers["www-authenticate"].startswith("Basic") and wrong.json()["code"] == "invalid_credentials"

    # revoked
    assert http("DELETE", f"{platform.base}/v1/walkers/me/tracker", token=demo["walker_token"]).status == 204
    assert post(url, location, basic(tracker)).status == 401

    # too many wrong passwords for one username: even the right one waits
    fresh = credentials(platform, demo)
    statuses = [post(url, {"_type": "lwt"}, basic(fresh, f"guess-{n}")).status for n in range(10)]
    limited = post(url, {"_type": "lwt"}, basic(fresh))
    assert statuses == [401] * 10 and limited.status == 429 and int(limited.headers["retry-after"]) > 0

    # the walk completed: a tracker's points are accepted and dropped
    other = credentials(platform, simulated["owntracks-http"]["demo"])
    demo_http = simulated["owntracks-http"]["demo"]
    done = post(f"{platform.base}/v1/bookings/{demo_http['booking_id']}/complete", {},
                f"Bearer {demo_http['walker_token']}")  # fmt: skip
    assert done.status == 200, done.body
    before = walk_state(platform, demo_http["walk_id"])
    tst, lat, lon = before["last"]
    late = {"_type": "location", "lat": lat, "lon": lon, "tst": tst + 20, "acc": 5, "tid": "sm"}
    feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
               "properties": {"timestamp": "2026-11-25T09:00:00Z"}}  # fmt: skip
    answers = [
        post(other["http_url"], late, basic(other)),
        post(other["http_url"], {"locations": [feature]}, basic(other)),
    ]
    assert [(a.status, a.json()) for a in answers] == [(200, []), (200, {"result": "ok"})]
    assert walk_state(platform, demo_http["walk_id"]) == before
