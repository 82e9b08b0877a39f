"""The SQS ingest function with batches shaped as the IoT rule sends them (the local bridge's
`rule_message`), on real PostgreSQL: a malformed message is dropped and counted without failing
the batch; a redelivered batch adds nothing; a database failure on one walk fails only that
walk's messages (partial batch response); the HTTP fallback goes through the same ingest."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from local.bridge import rule_message
from local.runtime import LambdaContext
from tests.conftest import Dependencies, _forget_configuration
from tests.integration.bookings.conftest import database_url
from tests.integration.conftest import Api, assert_problem
from tests.integration.marketplace.conftest import new_caller, rows
from tests.integration.tracking.conftest import Walk, start_walk

QUEUE_ARN = "arn:aws:sqs:us-east-1:000000000000:walk-messages"


def record(topic: str, payload: bytes) -> dict[str, Any]:
    body = json.dumps(rule_message(topic, payload))
    return {"messageId": str(uuid.uuid4()), "receiptHandle": uuid.uuid4().hex, "body": body, "attributes": {},
            "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs", "eventSourceARN": QUEUE_ARN,
            "awsRegion": "us-east-1"}  # fmt: skip


def location(lat: float, lon: float, at: datetime, **extra: Any) -> dict[str, Any]:
    return {"_type": "location", "lat": lat, "lon": lon, "tst": int(at.timestamp()), "acc": 5, **extra}


def ingest(records: list[dict[str, Any]]) -> dict[str, Any]:
    from tracking import ingest_walk_messages

    return dict(ingest_walk_messages.lambda_handler({"Records": records}, LambdaContext("ingest_walk_messages")))


def walk_row(walk_id: str) -> dict[str, Any]:
    return rows(database_url(), "SELECT points, distance_m, dropped, events FROM walks WHERE id = %s", walk_id)[0]


def test_a_batch_with_a_poisoned_message_keeps_the_rest_and_a_redelivery_adds_nothing(walk: Walk) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    topic = walk.mqtt_topic
    buffered = {"_type": "batch", "points": [location(40.7563, -73.9858, now - timedelta(seconds=10)),
                                             location(40.7566, -73.9856, now)]}  # fmt: skip
    batch = [
        record(topic, json.dumps(location(40.7560, -73.9860, now - timedelta(seconds=20), tid="rx")).encode()),
        record(topic, json.dumps(buffered).encode()),
        record(topic, b'{"_type": "location", "lat": 95, "lon": 0, "tst": 1795597200}'),  # no such latitude
        record(topic, b"\x00\xff not json"),
        record(topic.replace("/location", "/event"), json.dumps({"type": "poo", "tst": int(now.timestamp())}).encode()),
        record("dogwalk/walks/not-a-walk/location", b"{}"),
    ]

    first, again = ingest(batch), ingest(batch)

    assert first == {"batchItemFailures": []} and again == {"batchItemFailures": []}
    kept = walk_row(walk.id)
    assert kept["points"] == 3 and kept["events"] == {"poo": 1}
    assert kept["dropped"] == {"malformed": 4, "duplicate": 4}  # twice two malformed; the redelivery's 3 + 1
    assert rows(database_url(), "SELECT count(*) AS n FROM walk_points WHERE walk_id = %s", walk.id) == [{"n": 3}]


def test_a_speed_no_column_can_hold_is_a_malformed_message_not_a_failing_batch(walk: Walk) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    batch = [record(walk.mqtt_topic, json.dumps(location(40.7560, -73.9860, now - timedelta(seconds=5))).encode()),
             record(walk.mqtt_topic, json.dumps(location(40.7561, -73.9860, now, vel=1e39)).encode())]  # fmt: skip

    assert ingest(batch) == {"batchItemFailures": []}  # not delivered again and again
    assert walk_row(walk.id)["points"] == 1 and walk_row(walk.id)["dropped"] == {"malformed": 1}


def test_points_are_stored_exactly_to_the_microsecond_and_unknowns_as_null(walk: Walk) -> None:
    from dogwalk.tracking import ingest as tracking

    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    sent = [tracking.Point(start + timedelta(seconds=1, microseconds=123_457), 40.7560001, -73.9860002, 4.5, 3.25, 77),
            tracking.Point(start + timedelta(seconds=2), 40.7560501, -73.9860102)]  # fmt: skip

    outcome = tracking.ingest(walk.id, sent)

    assert outcome is not None and outcome.accepted == sent
    stored = rows(database_url(), "SELECT ts, lat, lon, accuracy, speed, battery FROM walk_points WHERE walk_id = %s"
                                  " ORDER BY ts", walk.id)  # fmt: skip
    assert [tuple(row.values()) for row in stored] == [tuple(point) for point in sent]


def test_a_database_failure_on_one_walk_fails_only_its_messages(api: Api, state: Dependencies, walk: Walk, admin,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    from tests.integration.bookings.conftest import EVERY_DAY
    from tests.integration.marketplace.conftest import make_walker

    other_walker = make_walker(api, state, admin, weekly=EVERY_DAY)
    owner = new_caller(state, "owner")
    card = api.post("/v1/payments/methods", json_body={"gateway_token": "pm_card_visa"}, token=owner.token).json()["id"]
    other = start_walk(api, owner, other_walker, card)
    now = datetime.now(UTC).replace(microsecond=0)
    stuck = record(walk.mqtt_topic, json.dumps(location(40.7560, -73.9860, now)).encode())
    fine = record(other.mqtt_topic, json.dumps(location(40.7560, -73.9860, now)).encode())
    monkeypatch.setenv("DOGWALK_DEPENDENCY_TIMEOUT_S", "1")  # statement_timeout 1 s
    _forget_configuration()
    holding, release = threading.Event(), threading.Event()

    def hold_the_walk() -> None:  # another transaction keeps the walk's row locked
        with psycopg.connect(state.database_url) as conn:
            conn.execute("SELECT 1 FROM walks WHERE id = %s FOR UPDATE", (walk.id,))
            holding.set()
            release.wait(10)

    locker = threading.Thread(target=hold_the_walk)
    locker.start()
    holding.wait(5)
    try:
        answer = ingest([stuck, fine])
    finally:
        release.set()
        locker.join()

    assert answer == {"batchItemFailures": [{"itemIdentifier": stuck["messageId"]}]}
    assert walk_row(other.id)["points"] == 1 and walk_row(walk.id)["points"] == 0
    assert ingest([stuck]) == {"batchItemFailures": []}  # SQS delivers it again: now it lands
    assert walk_row(walk.id)["points"] == 1


def test_the_http_fallback_takes_the_same_payloads(api: Api, state: Dependencies, walk: Walk) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    path = f"/v1/walks/{walk.id}/locations"
    twice = location(40.7563, -73.9858, now)
    batch = {"_type": "batch", "points": [location(40.7560, -73.9860, now - timedelta(seconds=5)), twice, twice]}

    answer = api.post(path, json_body=batch, token=walk.walker.token)
    event = api.post(path, json_body={"type": "water", "tst": int(now.timestamp())}, token=walk.walker.token)

    assert answer.status == 202, answer.body
    assert answer.json() == {"accepted": 2, "events": 0, "dropped": {"duplicate": 1}}
    assert event.json() == {"accepted": 0, "events": 1, "dropped": {}}
    assert_problem(api.post(path, json_body={"_type": "location", "lat": 1}, token=walk.walker.token), 422,
                   "validation_error")  # fmt: skip
    stranger = new_caller(state, "walker")
    assert_problem(api.post(path, json_body=batch, token=stranger.token), 404, "not_found")
    assert_problem(api.post(path, json_body=batch, token=walk.owner.token), 403, "forbidden")
    unknown = f"/v1/walks/{uuid.uuid4()}/locations"
    assert_problem(api.post(unknown, json_body=batch, token=walk.walker.token), 404, "not_found")
    assert walk_row(walk.id)["points"] == 2
