"""Twenty copies of one booking request with one Idempotency-Key, sent at the same moment to the
handler (each thread its own database connection, as concurrent Lambdas have): one booking, one
PaymentIntent at the gateway; every other copy is told the first is running (409) or gets the
first answer replayed."""

from __future__ import annotations

import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from dogwalk.adapters import db
from dogwalk.registry import endpoint
from local.api_gateway import rest_event
from local.runtime import LambdaContext
from tests.integration.bookings.conftest import database_url, gateway, next_weekday_at, walk
from tests.integration.conftest import Api
from tests.integration.marketplace.conftest import Caller, create_dog, rows

COPIES = 20


def request_event(owner: Caller, body: dict[str, Any], key: str) -> dict[str, Any]:
    route = endpoint("create_booking")
    headers = [("Content-Type", "application/json"), ("Idempotency-Key", key)]
    event = rest_event("POST", route.path, "", headers, json.dumps(body).encode(), route, {}, "203.0.113.7",
                       str(uuid.uuid4()))  # fmt: skip
    event["requestContext"]["authorizer"] = {"sub": owner.id, "role": "owner", "principalId": owner.id}
    return event


def test_twenty_concurrent_requests_with_one_key_make_one_booking_and_one_hold(api: Api, owner, walker,
                                                                               card) -> None:  # fmt: skip
    from bookings import create_booking

    body = {**walk(walker, [create_dog(api, owner)["id"]], next_weekday_at(10)), "payment_method_id": card}
    event = request_event(owner, body, key=str(uuid.uuid4()))
    together = threading.Barrier(COPIES)

    def send(_: int) -> tuple[int, dict[str, Any], dict[str, Any]]:
        together.wait()
        try:
            answer = create_booking.lambda_handler(json.loads(json.dumps(event)), LambdaContext("create_booking"))
        finally:
            db.reset()  # this thread's connection
        return answer["statusCode"], json.loads(answer["body"]), answer.get("multiValueHeaders", {})

    with ThreadPoolExecutor(max_workers=COPIES) as pool:
        answers = list(pool.map(send, range(COPIES)))

    statuses = sorted(status for status, _, _ in answers)
    assert set(statuses) <= {201, 409}, statuses
    created = {body["id"] for status, body, _ in answers if status == 201}
    assert len(created) == 1
    assert all(body["code"] == "idempotency_conflict" for status, body, _ in answers if status == 409)
    created_id = created.pop()
    assert rows(database_url(), "SELECT id::text FROM bookings") == [{"id": created_id}]
    every = gateway().v1.payment_intents.list(params={"limit": 100}).auto_paging_iter()
    customer = rows(database_url(), "SELECT gateway_id FROM payment_customers WHERE owner_id = %s", owner.id)
    held = [intent for intent in every if intent.customer == customer[0]["gateway_id"]]
    assert [(intent.status, intent.amount) for intent in held] == [("requires_capture", body_total(created_id))]
    replay = request_event(owner, body, key=event["headers"]["Idempotency-Key"])
    again = create_booking.lambda_handler(replay, LambdaContext("create_booking"))
    assert again["statusCode"] == 201 and again["multiValueHeaders"]["Idempotent-Replayed"] == ["true"]


def body_total(booking_id: str) -> int:
    return int(
        rows(database_url(), "SELECT authorized_cents FROM bookings WHERE id = %s", booking_id)[0]["authorized_cents"]
    )
