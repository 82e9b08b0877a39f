"""The whole life of a walk through HTTP (request → accept → start → complete → review → tip)
with the gateway's objects checked in localstripe, and tips: once, only after the walk, all of
it to the walker, a declined card changing nothing, a retried request charging once."""

from __future__ import annotations

from typing import Any

from dogwalk.payments import ledger
from tests.integration.bookings.conftest import database_url, gateway, intent_of
from tests.integration.bookings.test_walk_and_capture import accepted_walk
from tests.integration.conftest import Api, assert_problem
from tests.integration.marketplace.conftest import Caller, new_caller, rows, run_sql


def completed_walk(api: Api, owner: Caller, walker: Caller, card: str) -> dict[str, Any]:
    booking = accepted_walk(api, owner, walker, card)
    assert api.post(f"/v1/bookings/{booking['id']}/start", token=walker.token).status == 200
    assert api.post(f"/v1/bookings/{booking['id']}/complete", token=walker.token).status == 200
    return booking


def balances() -> dict[str, int]:
    found = rows(database_url(), "SELECT account_id, sum(amount_cents)::bigint AS cents FROM ledger_entries"
                                 " GROUP BY account_id")  # fmt: skip
    return {row["account_id"]: row["cents"] for row in found}


def test_a_walk_from_request_to_tip(api: Api, owner, walker, card) -> None:
    booking = completed_walk(api, owner, walker, card)
    price = booking["price"]

    reviewed = api.post(f"/v1/bookings/{booking['id']}/review", json_body={"rating": 5}, token=owner.token)
    tipped = api.post(f"/v1/bookings/{booking['id']}/tip", json_body={"amount_cents": 700}, token=owner.token)

    assert reviewed.status == 201, reviewed.body
    assert tipped.status == 201, tipped.body
    assert tipped.json()["amount_cents"] == 700 and tipped.json()["status"] == "succeeded"
    hold = gateway().v1.payment_intents.retrieve(intent_of(booking["id"]))
    assert (hold.status, hold.amount, hold.capture_method) == ("succeeded", price["total_cents"], "manual")
    tip_intent = rows(database_url(), "SELECT payment_intent_id FROM tips WHERE booking_id = %s", booking["id"])
    charged = gateway().v1.payment_intents.retrieve(tip_intent[0]["payment_intent_id"])
    assert (charged.status, charged.amount, charged.metadata["tip_for"]) == ("succeeded", 700, booking["id"])
    assert charged.customer == hold.customer
    payment = api.get(f"/v1/bookings/{booking['id']}/payment", token=owner.token).json()
    assert payment == {"status": "captured", "authorized_cents": price["total_cents"],
                       "captured_cents": price["total_cents"], "refunded_cents": 0, "tip_cents": 700,
                       "currency": "USD"}  # fmt: skip
    assert balances() == {
        ledger.GATEWAY_CLEARING: price["total_cents"] + 700,
        ledger.walker_payable(walker.id): -(price["total_cents"] - price["service_fee_cents"] + 700),
        ledger.PLATFORM_REVENUE: -price["service_fee_cents"],
    }
    told = rows(database_url(), "SELECT recipient_id::text AS who FROM outbox WHERE event_type = 'tip.received'")
    assert told == [{"who": walker.id}]


def test_a_walk_is_tipped_once_and_only_once_it_is_completed(api: Api, state, owner, walker, card) -> None:
    booking = accepted_walk(api, owner, walker, card)
    tip = f"/v1/bookings/{booking['id']}/tip"

    assert_problem(api.post(tip, json_body={"amount_cents": 500}, token=owner.token), 409, "invalid_state")
    api.post(f"/v1/bookings/{booking['id']}/start", token=walker.token)
    api.post(f"/v1/bookings/{booking['id']}/complete", token=walker.token)
    stranger = new_caller(state, "owner")
    assert_problem(api.post(tip, json_body={"amount_cents": 500}, token=stranger.token), 404, "not_found")
    assert_problem(api.post(tip, json_body={"amount_cents": 500}, token=walker.token), 403, "forbidden")
    assert api.post(tip, json_body={"amount_cents": 500}, token=owner.token).status == 201
    assert_problem(api.post(tip, json_body={"amount_cents": 500}, token=owner.token), 409, "already_tipped")

    assert rows(database_url(), "SELECT count(*) AS n FROM ledger_transactions WHERE kind = 'tip'") == [{"n": 1}]


def test_a_tip_outside_its_bounds_is_refused_and_changes_nothing(api: Api, owner, walker, card) -> None:
    booking = completed_walk(api, owner, walker, card)

    for amount in (99, 50_001, "500", True, None, 12.5):
        answer = api.post(f"/v1/bookings/{booking['id']}/tip", json_body={"amount_cents": amount}, token=owner.token)
        assert_problem(answer, 422, "validation_error")

    assert rows(database_url(), "SELECT count(*) AS n FROM tips") == [{"n": 0}]


def test_a_declined_tip_is_402_posts_nothing_and_may_be_tried_again(api: Api, owner, walker, card) -> None:
    booking = completed_walk(api, owner, walker, card)
    failing = api.post("/v1/payments/methods", json_body={"gateway_token": "pm_card_chargeCustomerFail"},
                       token=owner.token).json()["id"]  # fmt: skip
    run_sql(database_url(), "UPDATE bookings SET payment_method_id = %s WHERE id = %s", failing, booking["id"])
    tip = f"/v1/bookings/{booking['id']}/tip"

    assert_problem(api.post(tip, json_body={"amount_cents": 500}, token=owner.token), 402, "payment_declined")

    assert rows(database_url(), "SELECT status FROM tips") == [{"status": "failed"}]
    assert rows(database_url(), "SELECT count(*) AS n FROM ledger_transactions WHERE kind = 'tip'") == [{"n": 0}]
    run_sql(database_url(), "UPDATE bookings SET payment_method_id = %s WHERE id = %s", card, booking["id"])
    assert api.post(tip, json_body={"amount_cents": 400}, token=owner.token).status == 201
    assert api.get(f"/v1/bookings/{booking['id']}/payment", token=owner.token).json()["tip_cents"] == 400


def test_a_retried_tip_with_its_key_is_replayed_and_charged_once(api: Api, owner, walker, card) -> None:
    booking = completed_walk(api, owner, walker, card)
    tip = f"/v1/bookings/{booking['id']}/tip"
    key = {"Idempotency-Key": "tip-retry-1"}

    first = api.post(tip, json_body={"amount_cents": 300}, token=owner.token, headers=key)
    again = api.post(tip, json_body={"amount_cents": 300}, token=owner.token, headers=key)
    other = api.post(tip, json_body={"amount_cents": 900}, token=owner.token, headers=key)

    assert (first.status, again.status) == (201, 201)
    assert again.headers.get("idempotent-replayed") == "true" and again.json() == first.json()
    assert_problem(other, 409, "idempotency_conflict")
    assert rows(database_url(), "SELECT count(*) AS n FROM ledger_transactions WHERE kind = 'tip'") == [{"n": 1}]


def test_a_tip_whose_answer_was_lost_is_charged_once_on_retry(api: Api, owner, walker, card) -> None:
    from dogwalk.adapters import faults

    booking = completed_walk(api, owner, walker, card)
    tip = f"/v1/bookings/{booking['id']}/tip"

    with faults.injected("tips.charged"):  # the container dies between the gateway and our commit
        assert api.post(tip, json_body={"amount_cents": 800}, token=owner.token).status == 500
    assert_problem(api.post(tip, json_body={"amount_cents": 200}, token=owner.token), 409, "tip_in_progress")
    retried = api.post(tip, json_body={"amount_cents": 800}, token=owner.token)

    assert retried.status == 201, retried.body
    every = gateway().v1.payment_intents.list(params={"limit": 100}).auto_paging_iter()
    intents = [i for i in every if i.metadata.to_dict().get("tip_for") == booking["id"]]
    assert [(i.amount, i.status) for i in intents] == [(800, "succeeded")]
    assert rows(database_url(), "SELECT count(*) AS n FROM ledger_transactions WHERE kind = 'tip'") == [{"n": 1}]
