"""The gateway's webhook on real PostgreSQL and localstripe: forged, stale, future-dated,
tampered and unsigned events are 400 and change nothing; a replayed event is applied once; the
events reconcile what a dead Lambda left unrecorded (a capture, a tip) and record refunds made
at the gateway."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import pytest

from dogwalk.payments import ledger
from tests.integration.bookings.conftest import database_url, gateway, intent_of
from tests.integration.bookings.test_walk_and_capture import accepted_walk
from tests.integration.conftest import Answer, Api, assert_problem
from tests.integration.marketplace.conftest import rows
from tests.integration.payments.test_tips import balances, completed_walk

SECRET = "whsec_tests"
WEBHOOK = "/v1/payments/webhook"


def event(kind: str, subject: Any, event_id: str | None = None) -> str:
    body = {"id": event_id or f"evt_{uuid.uuid4().hex}", "object": "event", "type": kind, "created": int(time.time()),
            "data": {"object": subject.to_dict() if hasattr(subject, "to_dict") else subject}}  # fmt: skip
    return json.dumps(body)


def signature(payload: str, *, at: float | None = None, secret: str = SECRET) -> str:
    moment = int(at if at is not None else time.time())
    digest = hmac.new(secret.encode(), f"{moment}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={moment},v1={digest}"


def deliver(api: Api, payload: str, header: str | None = None) -> Answer:
    headers = {"Content-Type": "application/json; charset=utf-8"}
    headers["Stripe-Signature"] = signature(payload) if header is None else header
    return api.post(WEBHOOK, raw=payload.encode(), headers=headers)


def received() -> list[dict[str, Any]]:
    return rows(database_url(), "SELECT id, type FROM webhook_events")


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda payload: signature(payload, secret="whsec_someone_else"), id="another secret"),
        pytest.param(lambda payload: signature(payload, at=time.time() - 301), id="stale: over 5 minutes old"),
        pytest.param(lambda payload: signature(payload, at=time.time() + 301), id="from the future"),
        pytest.param(lambda payload: signature(payload.replace("succeeded", "succeeded ")), id="tampered body"),
        pytest.param(lambda payload: "t=1,v0=abc", id="no v1 signature"),
        pytest.param(lambda payload: "", id="no header"),
        pytest.param(lambda payload: "v1=" + signature(payload).split("v1=")[1], id="no timestamp"),
    ],
)
def test_a_forged_or_stale_event_is_400_and_changes_nothing(api: Api, forge) -> None:
    payload = event("payment_intent.succeeded", {"id": "pi_forged", "amount": 100, "metadata": {}})

    answer = deliver(api, payload, forge(payload))

    assert_problem(answer, 400, "invalid_signature")
    assert received() == []


def test_a_signature_made_4_minutes_ago_is_still_good(api: Api) -> None:
    payload = event("payment_intent.succeeded", {"id": "pi_unknown", "amount": 100, "metadata": {}})

    answer = deliver(api, payload, signature(payload, at=time.time() - 240))

    assert answer.status == 200
    assert answer.json() == {"received": True, "outcome": "unknown payment"}


def test_a_signed_body_that_is_not_an_event_is_400(api: Api) -> None:
    for payload in ("[1, 2]", '{"type": "charge.refunded"}', "not json"):
        answer = api.post(WEBHOOK, raw=payload.encode(),
                          headers={"Stripe-Signature": signature(payload)})  # fmt: skip
        assert answer.status in (400, 415), answer.body
    assert received() == []


def test_a_lost_completion_is_finished_by_the_event_and_a_replay_changes_nothing(api: Api, owner, walker,
                                                                                 card) -> None:  # fmt: skip
    booking = accepted_walk(api, owner, walker, card)
    api.post(f"/v1/bookings/{booking['id']}/start", token=walker.token)
    # the completion captured at the gateway and died before its commit
    intent = gateway().v1.payment_intents.capture(intent_of(booking["id"]))
    payload = event("payment_intent.succeeded", intent, "evt_completion")

    first, replayed = deliver(api, payload), deliver(api, payload)

    assert first.json()["outcome"] == "completion reconciled"
    assert replayed.status == 200 and replayed.json()["outcome"] == "duplicate"
    assert api.get(f"/v1/bookings/{booking['id']}", token=owner.token).json()["status"] == "completed"
    price = booking["price"]
    assert balances() == {
        ledger.GATEWAY_CLEARING: price["total_cents"],
        ledger.walker_payable(walker.id): -(price["total_cents"] - price["service_fee_cents"]),
        ledger.PLATFORM_REVENUE: -price["service_fee_cents"],
    }
    assert received() == [{"id": "evt_completion", "type": "payment_intent.succeeded"}]


def test_the_event_of_a_recorded_capture_changes_nothing(api: Api, owner, walker, card) -> None:
    booking = completed_walk(api, owner, walker, card)
    intent = gateway().v1.payment_intents.retrieve(intent_of(booking["id"]))
    before = balances()

    answer = deliver(api, event("payment_intent.succeeded", intent))

    assert answer.json()["outcome"] == "already recorded"
    assert balances() == before


def test_a_refund_made_at_the_gateway_is_posted_once(api: Api, owner, walker, card) -> None:
    booking = completed_walk(api, owner, walker, card)
    total = booking["price"]["total_cents"]
    gateway().v1.refunds.create(params={"payment_intent": intent_of(booking["id"]), "amount": 1000})
    charge = gateway().v1.payment_intents.retrieve(intent_of(booking["id"]), params={"expand": ["latest_charge"]})
    payload = event("charge.refunded", charge.latest_charge)

    first, again = deliver(api, payload), deliver(api, event("charge.refunded", charge.latest_charge))

    assert (first.json()["outcome"], again.json()["outcome"]) == ("refund recorded", "already recorded")
    payment = api.get(f"/v1/bookings/{booking['id']}/payment", token=owner.token).json()
    assert (payment["status"], payment["captured_cents"], payment["refunded_cents"]) == (
        "partially_refunded", total, 1000)  # fmt: skip
    assert balances()[ledger.REFUNDS] == 1000
    assert sum(balances().values()) == 0


def test_what_a_partial_capture_released_is_not_a_refund(api: Api, owner, walker, card) -> None:
    from datetime import timedelta

    from dogwalk.bookings import lifecycle

    booking = accepted_walk(api, owner, walker, card, minutes_from_now=5 * 60)
    start = rows(database_url(), "SELECT start_ts FROM bookings WHERE id = %s", booking["id"])[0]["start_ts"]
    lifecycle.cancel(booking["id"], owner.id, None, now=start - timedelta(hours=5))  # half is captured
    charge = gateway().v1.payment_intents.retrieve(intent_of(booking["id"]), params={"expand": ["latest_charge"]})
    assert charge.latest_charge.amount_refunded > 0  # the released half, as Stripe reports it

    answer = deliver(api, event("charge.refunded", charge.latest_charge))

    assert answer.json()["outcome"] == "already recorded"
    assert ledger.REFUNDS not in balances()


def test_a_tip_charged_whose_answer_was_lost_is_settled_by_its_event(api: Api, owner, walker, card) -> None:
    from dogwalk.adapters import faults

    booking = completed_walk(api, owner, walker, card)
    with faults.injected("tips.charged"):
        tip = api.post(f"/v1/bookings/{booking['id']}/tip", json_body={"amount_cents": 600}, token=owner.token)
    assert tip.status == 500
    attempt = rows(database_url(), "SELECT attempt::text FROM tips")[0]["attempt"]
    every = gateway().v1.payment_intents.list(params={"limit": 100}).auto_paging_iter()
    charged = next(i for i in every if i.metadata.to_dict().get("attempt") == attempt)

    answer = deliver(api, event("payment_intent.succeeded", charged))

    assert answer.json()["outcome"] == "tip settled"
    assert rows(database_url(), "SELECT status, amount_cents FROM tips") == [
        {"status": "succeeded", "amount_cents": 600}
    ]
    assert balances()[ledger.walker_payable(walker.id)] == -(
        booking["price"]["total_cents"] - booking["price"]["service_fee_cents"] + 600)  # fmt: skip
    assert_problem(api.post(f"/v1/bookings/{booking['id']}/tip", json_body={"amount_cents": 600}, token=owner.token),
                   409, "already_tipped")  # fmt: skip


def test_a_failed_tip_charge_is_marked_failed(api: Api, owner, walker, card) -> None:
    booking = completed_walk(api, owner, walker, card)
    attempt = str(uuid.uuid4())
    rows(database_url(), "INSERT INTO tips (booking_id, owner_id, walker_id, amount_cents, currency, status, attempt)"
                         " VALUES (%s, %s, %s, 500, 'USD', 'pending', %s) RETURNING booking_id",
         booking["id"], owner.id, walker.id, attempt)  # fmt: skip
    failed = {"id": "pi_tip_failed", "amount": 500, "metadata": {"tip_for": booking["id"], "attempt": attempt}}

    answer = deliver(api, event("payment_intent.payment_failed", failed))

    assert answer.json()["outcome"] == "tip failed"
    assert rows(database_url(), "SELECT status FROM tips") == [{"status": "failed"}]


def test_other_event_types_are_acknowledged_and_ignored(api: Api) -> None:
    answer = deliver(api, event("customer.created", {"id": "cus_1"}))

    assert answer.json() == {"received": True, "outcome": "ignored"}
    assert [row["type"] for row in received()] == ["customer.created"]
