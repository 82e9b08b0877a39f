"""Cancelling on real PostgreSQL and localstripe: the hold released or the policy's share captured
(the rest released), `refund_cents`, the ledger, and who may cancel what."""

from __future__ import annotations

from datetime import timedelta

from dogwalk.bookings import lifecycle
from dogwalk.payments import ledger
from tests.integration.bookings.conftest import database_url, gateway, intent_of, next_weekday_at, walk
from tests.integration.conftest import Api, assert_problem
from tests.integration.marketplace.conftest import Caller, create_dog, new_caller, rows


def accepted(api: Api, owner: Caller, walker: Caller, card: str) -> dict:
    dog = create_dog(api, owner)["id"]
    booking = api.post("/v1/bookings", json_body={**walk(walker, [dog], next_weekday_at(10)),
                                                  "payment_method_id": card}, token=owner.token).json()  # fmt: skip
    assert api.post(f"/v1/bookings/{booking['id']}/accept", token=walker.token).status == 200
    return booking


def test_an_owner_cancelling_days_ahead_gets_everything_back(api: Api, owner, walker, card) -> None:
    booking = accepted(api, owner, walker, card)

    answer = api.post(f"/v1/bookings/{booking['id']}/cancel", json_body={"reason": "plans changed"}, token=owner.token)

    assert answer.status == 200, answer.body
    assert (answer.json()["status"], answer.json()["refund_cents"]) == ("cancelled", booking["price"]["total_cents"])
    assert gateway().v1.payment_intents.retrieve(intent_of(booking["id"])).status == "canceled"
    told = rows(database_url(), "SELECT recipient_id::text AS who FROM outbox WHERE event_type = 'booking.cancelled'")
    assert told == [{"who": walker.id}]
    assert rows(database_url(), "SELECT count(*) AS n FROM ledger_transactions") == [{"n": 0}]


def test_an_owner_cancelling_five_hours_ahead_pays_half(api: Api, owner, walker, card) -> None:
    booking = accepted(api, owner, walker, card)
    total = booking["price"]["total_cents"]
    start = rows(database_url(), "SELECT start_ts FROM bookings WHERE id = %s", booking["id"])[0]["start_ts"]

    cancelled = lifecycle.cancel(booking["id"], owner.id, None, now=start - timedelta(hours=5))

    half = (total + 1) // 2
    assert cancelled["refund_cents"] == total - half
    assert gateway().v1.payment_intents.retrieve(intent_of(booking["id"])).status == "succeeded"
    entries = rows(database_url(), "SELECT account_id, amount_cents FROM ledger_entries ORDER BY id")
    assert sum(entry["amount_cents"] for entry in entries) == 0
    assert {e["account_id"]: e["amount_cents"] for e in entries}[ledger.GATEWAY_CLEARING] == half


def test_an_owner_cancelling_under_two_hours_ahead_pays_all(api: Api, owner, walker, card) -> None:
    booking = accepted(api, owner, walker, card)
    start = rows(database_url(), "SELECT start_ts FROM bookings WHERE id = %s", booking["id"])[0]["start_ts"]

    assert lifecycle.cancel(booking["id"], owner.id, None, now=start - timedelta(minutes=90))["refund_cents"] == 0


def test_a_walker_cancelling_refunds_the_owner_in_full(api: Api, owner, walker, card) -> None:
    booking = accepted(api, owner, walker, card)
    start = rows(database_url(), "SELECT start_ts FROM bookings WHERE id = %s", booking["id"])[0]["start_ts"]

    cancelled = lifecycle.cancel(booking["id"], walker.id, "sick", now=start - timedelta(minutes=30))

    assert cancelled["refund_cents"] == booking["price"]["total_cents"]
    told = rows(database_url(), "SELECT recipient_id::text AS who FROM outbox WHERE event_type = 'booking.cancelled'")
    assert told == [{"who": owner.id}]


def test_only_its_parties_may_cancel_and_only_before_it_starts(api: Api, state, owner, walker, card) -> None:
    booking = accepted(api, owner, walker, card)
    stranger = new_caller(state, "owner")

    assert_problem(api.post(f"/v1/bookings/{booking['id']}/cancel", json_body={}, token=stranger.token), 404,
                   "not_found")  # fmt: skip
    lifecycle.move(booking["id"], "in_progress", actor_id=walker.id)
    assert_problem(api.post(f"/v1/bookings/{booking['id']}/cancel", json_body={}, token=owner.token), 409,
                   "invalid_state")  # fmt: skip
