"""A walker's stock tracker app (issue 16): tracker credentials, OwnTracks' HTTP mode and Overland on
`http_url`, OwnTracks over MQTT through the topic rule `owntracks/+/+` and the device authorizer.

The payloads are the apps' own formats, taken from their documentation:
- OwnTracks booklet (github.com/owntracks/booklet), docs/tech/json.md: `_type=location` (with the
  fields we ignore: `tid`, `conn`, `BSSID`, `SSID`, `m`, `bs`, `created_at`, `topic`, `_id`...),
  `_type=transition`, `_type=lwt`, `_type=waypoint`, `_type=status`, `_type=card`, `_type=cmd`,
  `_type=encrypted`; "Topics": `owntracks/user/device`, `/event`, `/status`, `/waypoint`...
- OwnTracks booklet, docs/tech/http.md, "HTTP": HTTP Basic auth, an answer of 200 with a JSON array
  (`[]`), anything else retried; the `X-Limit-U`/`X-Limit-D` headers; zero-length payloads.
- Overland-iOS (github.com/aaronpk/Overland-iOS), README.md, "API": `{"locations": [GeoJSON Point
  Feature, properties.timestamp, speed (m/s), horizontal_accuracy, battery_level (0-1)...]}`;
  "Response": the batch is deleted on `{"result": "ok"}` only.
"""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from dogwalk.tracking import device_policy
from local.mqtt import MqttBroker
from tests.conftest import Dependencies
from tests.integration.bookings.conftest import database_url
from tests.integration.conftest import Api, assert_problem
from tests.integration.marketplace.conftest import Caller, new_caller, rows
from tests.integration.tracking.conftest import Walk
from tests.integration.tracking.test_device_auth import (  # noqa: F401 - the broker fixtures
    IOT,
    broker,
    broker_with,
    connected,
    listening,
    publish,
    received,
    statements,
)
from tests.integration.tracking.test_ingest_function import ingest, record, walk_row

URL = "/v1/trackers/locations"


def basic(username: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()}


def issue(api: Api, walker: Caller) -> dict[str, Any]:
    answer = api.post("/v1/walkers/me/tracker", token=walker.token)
    assert answer.status == 201, answer.body
    issued: dict[str, Any] = answer.json()
    return issued


def post(api: Api, tracker: dict[str, Any], body: Any, **headers: str) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return api.post(URL, raw=raw, headers={**basic(tracker["username"], tracker["password"]), **headers})


def owntracks_location(at: datetime, lat: float, lon: float, username: str = "jane") -> dict[str, Any]:
    """A location as the iOS app sends it (booklet, json.md `_type=location`), ignored fields included."""
    tst = int(at.timestamp())
    return {"_type": "location", "acc": 5, "alt": 31, "batt": 86, "bs": 1, "conn": "m", "created_at": tst + 1,
            "lat": lat, "lon": lon, "m": 2, "t": "t", "tid": "JJ", "tst": tst, "vac": 3, "vel": 5,
            "BSSID": "b0:a7:b9:00:00:01", "SSID": "home", "topic": f"owntracks/{username}/phone", "_id": "a1b2c3d4",
            "inregions": [], "inrids": []}  # fmt: skip


def others(at: datetime) -> list[dict[str, Any]]:
    """The other types a stock app sends (booklet json.md): all to be accepted and ignored."""
    tst = int(at.timestamp())
    return [
        {"_type": "transition", "wtst": tst - 3600, "lat": 40.7812, "lon": -73.9665, "tst": tst, "acc": 10,
         "tid": "JJ", "event": "enter", "desc": "Park", "t": "c", "rid": "6da9cf"},
        {"_type": "lwt", "tst": tst - 600},
        {"_type": "waypoint", "desc": "Park", "lat": 40.7812, "lon": -73.9665, "rad": 100, "tst": tst - 3600,
         "rid": "6da9cf"},
        {"_type": "status", "iOS": {"backgroundRefreshStatus": "UIBackgroundRefreshStatusAvailable",
                                    "locationManagerAuthorizationStatus": "authorizedAlways"}},
        {"_type": "card", "name": "Jane", "face": "aGVsbG8=", "tid": "JJ"},
        {"_type": "cmd", "action": "reportLocation"},
        {"_type": "encrypted", "data": "bm90IHJlYWxseSBlbmNyeXB0ZWQ="},
        {"_type": "steps", "steps": 1234, "from": tst - 3600, "to": tst},
    ]  # fmt: skip


def overland_feature(at: datetime, lat: float, lon: float, **properties: Any) -> dict[str, Any]:
    """One location as Overland posts it (README "API"), its timestamp as in the README (`-0700`)."""
    local = at.astimezone(timezone(timedelta(hours=-7)))
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {"timestamp": local.strftime("%Y-%m-%dT%H:%M:%S%z"), "altitude": 0, "speed": 1.5,
                           "horizontal_accuracy": 8, "vertical_accuracy": -1, "motion": ["walking"],
                           "pauses": False, "activity": "fitness", "desired_accuracy": 100, "deferred": 0,
                           "significant_change": "disabled", "locations_in_payload": 3, "battery_state": "unplugged",
                           "battery_level": 0.8, "device_id": "", "wifi": "", **properties}}  # fmt: skip


def points_of(walk_id: str) -> list[dict[str, Any]]:
    return rows(database_url(), "SELECT ts, lat, lon, accuracy, speed, battery FROM walk_points WHERE walk_id = %s"
                " ORDER BY ts", walk_id)  # fmt: skip


# Credentials


def test_a_walker_gets_credentials_and_another_call_replaces_them(api: Api, walk: Walk) -> None:
    first = issue(api, walk.walker)
    second = issue(api, walk.walker)

    assert set(first) == {"username", "password", "http_url", "mqtt"}
    assert first["username"] != second["username"] and len(second["password"]) >= 43  # 256 bits
    assert second["http_url"].endswith("/v1/trackers/locations")
    assert second["mqtt"]["topic"] == f"owntracks/{second['username']}/+"
    assert isinstance(second["mqtt"]["port"], int)
    stored = rows(database_url(), "SELECT username, secret_sha256 FROM tracker_credentials WHERE walker_id = %s",
                  walk.walker.id)  # fmt: skip
    assert [row["username"] for row in stored] == [second["username"]]
    assert second["password"].encode() not in bytes(stored[0]["secret_sha256"])  # only the digest
    assert post(api, second, {"_type": "lwt", "tst": 1}).status == 200
    assert_problem(post(api, first, {"_type": "lwt", "tst": 1}), 401, "invalid_credentials")


def test_only_walkers_get_credentials(api: Api, walk: Walk) -> None:
    assert_problem(api.post("/v1/walkers/me/tracker", token=walk.owner.token), 403, "forbidden")
    assert_problem(api.post("/v1/walkers/me/tracker"), 401, "unauthorized")
    assert_problem(api.delete("/v1/walkers/me/tracker", token=walk.owner.token), 403, "forbidden")


def test_revoked_credentials_answer_401_and_the_apps_tokens_are_no_tracker_credentials(api: Api, walk: Walk) -> None:
    tracker = issue(api, walk.walker)
    assert api.delete("/v1/walkers/me/tracker", token=walk.walker.token).status == 204
    assert api.delete("/v1/walkers/me/tracker", token=walk.walker.token).status == 204  # nothing left: still 204

    revoked = post(api, tracker, owntracks_location(datetime.now(UTC), 40.78, -73.96))
    bearer = api.post(URL, json_body={"_type": "lwt", "tst": 1}, token=walk.walker.token)

    assert_problem(revoked, 401, "invalid_credentials")
    assert revoked.headers["www-authenticate"].startswith("Basic ")
    assert_problem(bearer, 401, "unauthorized")
    assert rows(database_url(), "SELECT count(*) AS n FROM tracker_credentials") == [{"n": 0}]
    assert walk_row(walk.id)["points"] == 0


def test_bad_or_missing_credentials_are_401_with_a_basic_challenge(api: Api, walk: Walk) -> None:
    tracker = issue(api, walk.walker)
    location = owntracks_location(datetime.now(UTC), 40.78, -73.96)
    attempts = [
        post(api, {**tracker, "password": tracker["password"][:-1] + "x"}, location),
        post(api, {**tracker, "username": "ot" + "0" * 20}, location),
        post(api, {**tracker, "username": "jane"}, location),
        api.post(URL, json_body=location),
        api.post(URL, json_body=location, headers={"Authorization": "Basic !!not base64"}),
        api.post(URL, json_body=location, headers={"Authorization": "Digest username=x"}),
    ]

    for answer in attempts:
        assert answer.status == 401, answer.body
        assert answer.headers["www-authenticate"] == 'Basic realm="dogwalk trackers", charset="UTF-8"'
    assert walk_row(walk.id)["points"] == 0


def test_wrong_passwords_are_limited_per_username_then_even_the_right_one_waits(api: Api, walk: Walk) -> None:
    tracker = issue(api, walk.walker)
    wrong = {**tracker, "password": "guess"}
    failures = [post(api, wrong, {"_type": "lwt", "tst": 1}).status for _ in range(10)]

    limited = post(api, tracker, {"_type": "lwt", "tst": 1})

    assert failures == [401] * 10
    assert_problem(limited, 429, "rate_limited")
    assert int(limited.headers["retry-after"]) > 0


def test_wrong_credentials_are_limited_per_source_address(
    api: Api, walk: Walk, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dogwalk.adapters.ratelimit import Limit
    from dogwalk.tracking import trackers

    assert trackers.FAILURES_PER_IP.limit == 300  # in production; 60 here, to keep the test short
    monkeypatch.setattr(trackers, "FAILURES_PER_IP", Limit("tracker-ip", 60, 15 * 60, fail_open=False))
    tracker = issue(api, walk.walker)
    # many usernames guessed from one address; each username stays under its own limit
    statuses = [
        api.post(
            URL, json_body={"_type": "lwt"}, headers=basic(f"ot{n:020x}", "guess"), source_ip="198.51.100.9"
        ).status
        for n in range(61)
    ]
    right = basic(tracker["username"], tracker["password"])
    from_there = api.post(URL, raw=b'{"_type": "lwt"}', headers=right, source_ip="198.51.100.9")
    from_elsewhere = post(api, tracker, {"_type": "lwt"})

    assert statuses[:60] == [401] * 60 and statuses[60] == 429
    assert_problem(from_there, 429, "rate_limited")
    assert from_elsewhere.status == 200


# OwnTracks HTTP mode


def test_a_stock_owntracks_http_sequence_is_answered_with_arrays_and_only_locations_count(api: Api, walk: Walk) -> None:
    tracker = issue(api, walk.walker)
    now = datetime.now(UTC).replace(microsecond=0)
    first = owntracks_location(now - timedelta(seconds=20), 40.7812, -73.9665)
    second = owntracks_location(now - timedelta(seconds=10), 40.7813, -73.9664)
    sequence = [first, *others(now), second, second]  # the second sent twice (a retry)
    headers = {"X-Limit-U": "jane", "X-Limit-D": "phone"}  # booklet http.md: ignored here

    answers = [post(api, tracker, message, **headers) for message in sequence]
    empty = post(api, tracker, b"")  # booklet http.md: a zero-length payload when a friend is deleted
    garbled = post(api, tracker, b'{"_type": "location", "lat": 40.78')  # not JSON: retrying cannot fix it
    bad_location = post(api, tracker, {"_type": "location", "lat": 91, "lon": 0, "tst": int(now.timestamp())})

    for answer in [*answers, empty, garbled, bad_location]:
        assert (answer.status, answer.json()) == (200, []), answer.body
        assert answer.headers["content-type"] == "application/json"
    stored = points_of(walk.id)
    assert [(int(p["ts"].timestamp()), p["lat"], p["lon"]) for p in stored] == [
        (first["tst"], first["lat"], first["lon"]), (second["tst"], second["lat"], second["lon"])
    ]  # fmt: skip
    assert (stored[0]["accuracy"], stored[0]["speed"], stored[0]["battery"]) == (5, 5, 86)
    summary = walk_row(walk.id)
    assert summary["points"] == 2 and not any(summary["events"].values())
    assert summary["dropped"] == {"duplicate": 1, "malformed": 1}


def test_owntracks_points_go_through_the_phones_filters(api: Api, walk: Walk) -> None:
    tracker = issue(api, walk.walker)
    now = datetime.now(UTC).replace(microsecond=0)
    inaccurate = {**owntracks_location(now, 40.7812, -73.9665), "acc": 150}
    before_the_walk = owntracks_location(now - timedelta(hours=2), 40.7812, -73.9665)
    kept = owntracks_location(now - timedelta(seconds=30), 40.7812, -73.9665)
    too_fast = owntracks_location(now - timedelta(seconds=29), 40.80, -73.9665)  # 2 km in a second

    for message in (inaccurate, before_the_walk, kept, too_fast):
        assert post(api, tracker, message).json() == []

    assert walk_row(walk.id)["points"] == 1
    assert walk_row(walk.id)["dropped"] == {"inaccurate": 1, "outside_walk": 1, "too_fast": 1}


def test_with_no_walk_in_progress_everything_is_accepted_and_dropped(api: Api, state: Dependencies) -> None:
    idle = new_caller(state, "walker")
    tracker = issue(api, idle)
    now = datetime.now(UTC)

    answers = [post(api, tracker, m) for m in (owntracks_location(now, 40.78, -73.96), *others(now)[:2])]
    overland = post(api, tracker, {"locations": [overland_feature(now, 40.78, -73.96)]})

    assert [(a.status, a.json()) for a in answers] == [(200, [])] * 3
    assert (overland.status, overland.json()) == (200, {"result": "ok"})
    assert rows(database_url(), "SELECT count(*) AS n FROM walk_points") == [{"n": 0}]


# Overland


def test_an_overland_batch_is_ok_and_its_points_are_stored(api: Api, walk: Walk) -> None:
    tracker = issue(api, walk.walker)
    now = datetime.now(UTC).replace(microsecond=0)
    batch = {
        "locations": [
            overland_feature(now - timedelta(seconds=20), 40.7812, -73.9665),
            overland_feature(now - timedelta(seconds=10), 40.7813, -73.9664, speed=-1, battery_level=-1),
            overland_feature(now - timedelta(seconds=5), 40.7814, -73.9663, horizontal_accuracy=-1),  # invalid fix
            {"type": "Feature", "geometry": {"type": "LineString", "coordinates": []}, "properties": {}},
        ],
        "current": {"type": "Feature", "geometry": {"type": "Point", "coordinates": [-73.9663, 40.7814]}},
        "trip": {"mode": "walk", "distance": 12.5},
    }

    answer = post(api, tracker, batch)
    again = post(api, tracker, batch)  # Overland sends a batch again when it missed our answer

    assert (answer.status, answer.json()) == (200, {"result": "ok"})
    assert again.json() == {"result": "ok"}
    stored = points_of(walk.id)
    assert [(int(p["ts"].timestamp()), p["lat"], p["lon"]) for p in stored] == [
        (int((now - timedelta(seconds=20)).timestamp()), 40.7812, -73.9665),
        (int((now - timedelta(seconds=10)).timestamp()), 40.7813, -73.9664),
    ]
    assert (stored[0]["accuracy"], stored[0]["speed"], stored[0]["battery"]) == (8, pytest.approx(5.4), 80)
    assert (stored[1]["speed"], stored[1]["battery"]) == (None, None)  # iOS's -1: unknown
    assert walk_row(walk.id)["dropped"] == {"malformed": 4, "duplicate": 2}


def test_overland_may_send_the_credentials_as_its_bearer_access_token(api: Api, walk: Walk) -> None:
    tracker = issue(api, walk.walker)
    now = datetime.now(UTC).replace(microsecond=0)
    body = json.dumps({"locations": [overland_feature(now, 40.7812, -73.9665)]}).encode()

    answer = api.post(URL, raw=body, headers={"Authorization": f"Bearer {tracker['username']}:{tracker['password']}"})

    assert answer.json() == {"result": "ok"} and walk_row(walk.id)["points"] == 1


# OwnTracks over MQTT: the topic rule `owntracks/+/+` into the ingest


def test_owntracks_mqtt_messages_reach_the_walk_of_the_topics_username(api: Api, walk: Walk) -> None:
    tracker = issue(api, walk.walker)
    now = datetime.now(UTC).replace(microsecond=0)
    topic = f"owntracks/{tracker['username']}/phone"
    location = owntracks_location(now - timedelta(seconds=5), 40.7812, -73.9665, tracker["username"])
    batch = [
        record(topic, json.dumps(location).encode()),
        record(topic, json.dumps({"_type": "lwt", "tst": int(now.timestamp())}).encode()),  # the broker's will
        record(f"owntracks/ot{'0' * 20}/phone", json.dumps(location).encode()),  # nobody's username
        record("owntracks/jane/phone", json.dumps(location).encode()),  # not one of ours
    ]

    assert ingest(batch) == {"batchItemFailures": []}
    assert ingest(batch[:1]) == {"batchItemFailures": []}  # redelivered: stored once

    assert [int(p["ts"].timestamp()) for p in points_of(walk.id)] == [location["tst"]]
    assert walk_row(walk.id)["dropped"] == {"duplicate": 1}


def test_revoked_credentials_stop_their_topic_reaching_the_walk(api: Api, walk: Walk) -> None:
    tracker = issue(api, walk.walker)
    api.delete("/v1/walkers/me/tracker", token=walk.walker.token)
    location = owntracks_location(datetime.now(UTC), 40.7812, -73.9665)

    assert ingest([record(f"owntracks/{tracker['username']}/phone", json.dumps(location).encode())]) == {
        "batchItemFailures": []
    }
    assert walk_row(walk.id)["points"] == 0


# The device authorizer and the local broker


def connection(username: str, password: str, client_id: str) -> dict[str, Any]:
    from tracking.authorize_device import lambda_handler

    from local.runtime import LambdaContext

    event = {"protocols": ["tls", "mqtt"], "protocolData": {"mqtt": {
        "username": username, "password": base64.b64encode(password.encode()).decode(), "clientId": client_id}},
        "connectionMetadata": {"id": str(uuid.uuid4())}}  # fmt: skip
    answer: dict[str, Any] = lambda_handler(event, LambdaContext("authorize_device"))
    return answer


def test_the_authorizer_lets_a_tracker_publish_under_its_own_owntracks_topic_only(api: Api, walk: Walk) -> None:
    tracker = issue(api, walk.walker)
    username, password = tracker["username"], tracker["password"]

    allowed = statements(connection(username, password, f"{username}phone"))

    assert allowed == {
        "iot:Connect": {"Effect": "Allow", "Action": "iot:Connect", "Resource": f"{IOT}:client/{username}phone"},
        "iot:Publish": {"Effect": "Allow", "Action": "iot:Publish",
                        "Resource": [f"{IOT}:topic/owntracks/{username}/*"]},
    }  # fmt: skip
    # a client id not its own: authenticated, but it may not connect
    assert "iot:Connect" not in statements(connection(username, password, walk.walker.id))
    assert connection(username, password + "x", f"{username}phone") == {"isAuthenticated": False}
    # with the tracker's username, the app's token is still a token: the walk's topics, no owntracks ones
    as_app = statements(connection(username, walk.walker.token, walk.walker.id))
    assert as_app["iot:Publish"]["Resource"] == [f"{IOT}:topic/dogwalk/walks/{walk.id}/location",
                                                 f"{IOT}:topic/dogwalk/walks/{walk.id}/event"]  # fmt: skip
    assert connection("walker-phone", password, walk.walker.id) == {"isAuthenticated": False}
    api.delete("/v1/walkers/me/tracker", token=walk.walker.token)
    assert connection(username, password, f"{username}phone") == {"isAuthenticated": False}


def test_the_publish_rule_of_a_tracker() -> None:
    name = "ot" + "a" * 20
    assert device_policy.may_publish(frozenset(), f"owntracks/{name}/phone", tracker=name)
    assert device_policy.may_publish(frozenset(), f"owntracks/{name}/phone/event", tracker=name)
    for topic in (f"owntracks/{'ot' + 'b' * 20}/phone", f"owntracks/{name}", f"owntracks/{name}/+",
                  f"owntracks/{name}/#", f"owntracks/{name}//x", f"owntracks/{name}/a/b/c", "dogwalk/walks/x/location",
                  f"owntracks/{name}/"):  # fmt: skip
        assert not device_policy.may_publish(frozenset(), topic, tracker=name), topic
    assert not device_policy.may_publish(frozenset(), "owntracks//phone", tracker="")


def test_on_the_local_broker_a_tracker_publishes_to_its_topic_and_not_to_another_users(
    api: Api,
    state: Dependencies,
    broker: MqttBroker,  # noqa: F811 - the fixture
    walk: Walk,
    capsys: pytest.CaptureFixture[str],
) -> None:
    mine = issue(api, walk.walker)
    theirs = issue(api, new_caller(state, "walker"))

    async def scenario() -> list[tuple[str, bytes]]:
        rules = await listening(broker, "owntracks/#")
        phone = await connected(broker, mine["username"], mine["password"], f"{mine['username']}phone")
        await publish(phone, f"owntracks/{theirs['username']}/phone", b'{"_type":"location","forged":true}')
        await publish(phone, f"dogwalk/walks/{walk.id}/location", b'{"_type":"location","forged":true}')
        await publish(phone, f"owntracks/{mine['username']}/phone/event", b'{"_type":"transition"}')
        await publish(phone, f"owntracks/{mine['username']}/phone", b'{"_type":"location","own":true}')
        got = [await received(rules), await received(rules)]
        await phone.disconnect()
        with pytest.raises(asyncio.TimeoutError):
            got.append(await received(rules, timeout_s=0.3))
        await rules.disconnect()
        return got

    assert asyncio.run(scenario()) == [
        (f"owntracks/{mine['username']}/phone/event", b'{"_type":"transition"}'),
        (f"owntracks/{mine['username']}/phone", b'{"_type":"location","own":true}'),
    ]
    reported = capsys.readouterr().err
    assert f"owntracks/{theirs['username']}/phone" in reported and mine["password"] not in reported


def test_on_the_local_broker_wrong_tracker_credentials_cannot_connect(
    api: Api,
    broker: MqttBroker,  # noqa: F811 - the fixture
    walk: Walk,
) -> None:
    from amqtt.errors import ConnectError

    tracker = issue(api, walk.walker)

    async def attempt(username: str, password: str, client_id: str) -> None:
        client = await connected(broker, username, password, client_id)
        await client.disconnect()

    for username, password, client_id in (
        (tracker["username"], "wrong", f"{tracker['username']}phone"),
        (tracker["username"], tracker["password"], walk.walker.id),  # a client id not its own
    ):
        with pytest.raises(ConnectError):
            asyncio.run(attempt(username, password, client_id))
