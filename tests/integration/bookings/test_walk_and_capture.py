"""Starting and completing a walk through HTTP on real PostgreSQL and localstripe: the start
window, the capture at completion, the ledger's balanced posting, and a crash between the
gateway's capture and our commit followed by a retry (captured once, posted once)."""

from __future__ import annotations

from datetime import timedelta

from dogwalk.adapters import faults
from dogwalk.payments import ledger
from tests.integration.bookings.conftest import database_url, gateway, intent_of, next_weekday_at, walk
from tests.integration.conftest import Api, assert_problem
from tests.integration.marketplace.conftest import Caller, create_dog, new_caller, rows, run_sql


def accepted_walk(api: Api, owner: Caller, walker: Caller, card: str, minutes_from_now: int = 5) -> dict:
    dog = create_dog(api, owner)["id"]
    booking = api.post("/v1/bookings", json_body={**walk(walker, [dog], next_weekday_at(10)),
                                                  "payment_method_id": card}, token=owner.token).json()  # fmt: skip
    assert api.post(f"/v1/bookings/{booking['id']}/accept", token=walker.token).status == 200
    # the walk is near: move it (creation refuses times outside the walker's hours, whenever the tests run)
    run_sql(database_url(), "UPDATE bookings SET start_ts = now() + %s, end_ts = now() + %s WHERE id = %s",
            timedelta(minutes=minutes_from_now), timedelta(minutes=minutes_from_now + 60), booking["id"])  # fmt: skip
    return booking


def test_a_walk_starts_from_fifteen_minutes_before_with_its_topic(api: Api, owner, walker, card) -> None:
    booking = accepted_walk(api, owner, walker, card, minutes_from_now=10)

    answer = api.post(f"/v1/bookings/{booking['id']}/start", token=walker.token)

    assert answer.status == 200
    started = answer.json()
    assert started["status"] == "in_progress"
    assert started["walk"]["mqtt_topic"] == f"dogwalk/walks/{started['walk']['id']}/location"
    told = rows(database_url(), "SELECT recipient_id::text AS who FROM outbox WHERE event_type = 'walk.started'")
    assert told == [{"who": owner.id}]


def test_a_walk_cannot_start_earlier_nor_twice_nor_by_another_walker(api: Api, state, owner, walker, card) -> None:
    booking = accepted_walk(api, owner, walker, card, minutes_from_now=60)

    assert_problem(api.post(f"/v1/bookings/{booking['id']}/start", token=walker.token), 409, "invalid_state")
    stranger = new_caller(state, "walker")
    assert_problem(api.post(f"/v1/bookings/{booking['id']}/start", token=stranger.token), 404, "not_found")
    run_sql(database_url(), "UPDATE bookings SET start_ts = now() + interval '5 minutes' WHERE id = %s", booking["id"])
    assert api.post(f"/v1/bookings/{booking['id']}/start", token=walker.token).status == 200
    assert_problem(api.post(f"/v1/bookings/{booking['id']}/start", token=walker.token), 409, "invalid_state")


def test_completing_captures_the_hold_and_posts_the_shares(api: Api, owner, walker, card) -> None:
    booking = accepted_walk(api, owner, walker, card)
    api.post(f"/v1/bookings/{booking['id']}/start", token=walker.token)

    answer = api.post(f"/v1/bookings/{booking['id']}/complete", token=walker.token)

    assert answer.status == 200, answer.body
    done = answer.json()
    assert (done["status"], done["payment"]) == ("completed", {"status": "captured"})
    assert gateway().v1.payment_intents.retrieve(intent_of(booking["id"])).status == "succeeded"
    price = booking["price"]
    with_entries = rows(database_url(), "SELECT account_id, amount_cents FROM ledger_entries ORDER BY id")
    assert {row["account_id"]: row["amount_cents"] for row in with_entries} == {
        ledger.GATEWAY_CLEARING: price["total_cents"],
        ledger.walker_payable(walker.id): -(price["total_cents"] - price["service_fee_cents"]),
        ledger.PLATFORM_REVENUE: -price["service_fee_cents"],
    }
    assert rows(database_url(), "SELECT completed_walks FROM walker_profiles WHERE user_id = %s", walker.id) == [
        {"completed_walks": 1}
    ]
    assert_problem(api.post(f"/v1/bookings/{booking['id']}/complete", token=walker.token), 409, "invalid_state")


def test_a_crash_after_the_capture_then_a_retry_captures_once_and_posts_once(api: Api, owner, walker, card) -> None:
    booking = accepted_walk(api, owner, walker, card)
    api.post(f"/v1/bookings/{booking['id']}/start", token=walker.token)
    with faults.injected("bookings.captured"):  # the container dies between the gateway and our commit
        failed = api.post(f"/v1/bookings/{booking['id']}/complete", token=walker.token)
    assert failed.status == 500
    assert gateway().v1.payment_intents.retrieve(intent_of(booking["id"])).status == "succeeded"
    assert rows(database_url(), "SELECT status FROM bookings WHERE id = %s", booking["id"]) == [
        {"status": "in_progress"}
    ]

    retried = api.post(f"/v1/bookings/{booking['id']}/complete", token=walker.token)

    assert retried.status == 200
    assert rows(database_url(), "SELECT count(*) AS n FROM ledger_transactions") == [{"n": 1}]
    assert rows(database_url(), "SELECT sum(amount_cents)::int AS total FROM ledger_entries") == [{"total": 0}]
