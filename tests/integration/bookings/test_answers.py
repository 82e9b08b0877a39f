"""The walker's answers and the expiry sweep, through HTTP and the scheduled function, on real
PostgreSQL and localstripe: accepting, declining (the hold released at the gateway), overlaps,
and requests that nobody accepted before their start."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from dogwalk.bookings import lifecycle
from local.runtime import LambdaContext
from tests.conftest import REPO, Dependencies
from tests.integration.bookings.conftest import database_url, gateway, intent_of, next_weekday_at, walk
from tests.integration.conftest import Api, assert_problem
from tests.integration.marketplace.conftest import Caller, create_dog, new_caller, rows, run_sql


def book(api: Api, owner: Caller, walker: Caller, card: str, start: datetime) -> dict:
    dog = create_dog(api, owner)["id"]
    answer = api.post("/v1/bookings", json_body={**walk(walker, [dog], start), "payment_method_id": card},
                      token=owner.token)  # fmt: skip
    assert answer.status == 201, answer.body
    return answer.json()


def test_the_walker_accepts_a_request(api: Api, owner, walker, card) -> None:
    booking = book(api, owner, walker, card, next_weekday_at(10))

    answer = api.post(f"/v1/bookings/{booking['id']}/accept", token=walker.token)

    assert answer.status == 200
    assert answer.json()["status"] == "accepted"
    assert answer.json()["payment"] == {"status": "authorized"}


def test_another_walker_cannot_answer_it_and_an_owner_may_never(api: Api, state, owner, walker, card) -> None:
    booking = book(api, owner, walker, card, next_weekday_at(10))
    stranger = new_caller(state, "walker")

    assert_problem(api.post(f"/v1/bookings/{booking['id']}/accept", token=stranger.token), 404, "not_found")
    assert_problem(api.post(f"/v1/bookings/{booking['id']}/accept", token=owner.token), 403, "forbidden")
    assert_problem(api.post("/v1/bookings/not-a-booking/accept", token=walker.token), 404, "not_found")


def test_declining_releases_the_hold_at_the_gateway(api: Api, owner, walker, card) -> None:
    booking = book(api, owner, walker, card, next_weekday_at(10))

    answer = api.post(f"/v1/bookings/{booking['id']}/decline", token=walker.token)

    assert answer.status == 200
    assert (answer.json()["status"], answer.json()["payment"]) == ("declined", {"status": "voided"})
    assert gateway().v1.payment_intents.retrieve(intent_of(booking["id"])).status == "canceled"
    assert_problem(api.post(f"/v1/bookings/{booking['id']}/accept", token=walker.token), 409, "invalid_state")


def test_accepting_one_of_two_overlapping_requests_refuses_the_other(api: Api, owner, walker, card) -> None:
    start = next_weekday_at(10)
    first, second = book(api, owner, walker, card, start), book(api, owner, walker, card, start + timedelta(minutes=30))

    assert api.post(f"/v1/bookings/{first['id']}/accept", token=walker.token).status == 200
    assert_problem(api.post(f"/v1/bookings/{second['id']}/accept", token=walker.token), 409, "booking_conflict")
    assert rows(database_url(), "SELECT status FROM bookings WHERE id = %s", second["id"]) == [{"status": "requested"}]


def run_sweep() -> dict:
    from bookings import expire_bookings

    event = json.loads((REPO / "events" / "expire_bookings.json").read_text())
    return expire_bookings.lambda_handler(event, LambdaContext("expire_bookings"))


def test_the_sweep_expires_requests_whose_start_passed_and_releases_their_holds(
    api: Api, state: Dependencies, owner, walker, card
) -> None:
    due = book(api, owner, walker, card, next_weekday_at(10))
    later = book(api, owner, walker, card, next_weekday_at(10, days_ahead=20))
    run_sql(state.database_url, "UPDATE bookings SET start_ts = now() - interval '1 hour', end_ts = now()"
                                " WHERE id = %s", due["id"])  # fmt: skip

    assert run_sweep() == {"expired": 1, "released": 1}
    assert run_sweep() == {"expired": 0, "released": 0}

    found = rows(state.database_url, "SELECT id::text, status, payment_status FROM bookings")
    states = {row["id"]: row for row in found}
    assert (states[due["id"]]["status"], states[due["id"]]["payment_status"]) == ("expired", "voided")
    assert states[later["id"]]["status"] == "requested"
    assert gateway().v1.payment_intents.retrieve(intent_of(due["id"])).status == "canceled"
    told = rows(state.database_url, "SELECT recipient_id::text AS who FROM outbox WHERE event_type = 'booking.expired'")
    assert told == [{"who": owner.id}]


def test_the_sweep_releases_a_hold_the_decline_could_not(api: Api, state, owner, walker, card) -> None:
    booking = book(api, owner, walker, card, next_weekday_at(10))
    lifecycle.move(booking["id"], "declined", actor_id=walker.id)  # as if the gateway had been down

    assert run_sweep() == {"expired": 0, "released": 1}
    assert gateway().v1.payment_intents.retrieve(intent_of(booking["id"])).status == "canceled"


def test_an_accepted_walk_whose_start_passed_is_not_expired(api: Api, state, owner, walker, card) -> None:
    booking = book(api, owner, walker, card, next_weekday_at(10))
    api.post(f"/v1/bookings/{booking['id']}/accept", token=walker.token)
    run_sql(state.database_url, "UPDATE bookings SET start_ts = now() - interval '1 hour', end_ts = now()"
                                " WHERE id = %s", booking["id"])  # fmt: skip

    assert run_sweep() == {"expired": 0, "released": 0}
