"""Requesting walks through HTTP on real PostgreSQL and localstripe: every request-time rule, the
price held (not charged) at the gateway, a refused card leaving nothing behind, weekly series all
or none, and a retried request (same Idempotency-Key) booking and holding once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from dogwalk.marketplace import pricing
from tests.integration.bookings.conftest import EVERY_DAY, database_url, gateway, next_weekday_at, walk
from tests.integration.conftest import Api, assert_problem
from tests.integration.marketplace.conftest import create_dog, make_walker, new_caller, rows


def test_a_request_is_priced_held_and_written_with_its_audit_and_event(api: Api, owner, walker, card) -> None:
    dog = create_dog(api, owner)["id"]
    start = next_weekday_at(10)

    quote = api.post("/v1/bookings/quote", json_body=walk(walker, [dog], start), token=owner.token)
    answer = api.post("/v1/bookings", json_body={**walk(walker, [dog], start), "payment_method_id": card},
                      token=owner.token)  # fmt: skip

    assert quote.status == 200 and answer.status == 201, answer.body
    booking = answer.json()
    assert booking["status"] == "requested" and booking["payment"] == {"status": "authorized"}
    assert booking["price"] == quote.json()
    expected = pricing.quote(price_cents_per_30min=2000, duration_min=60, dog_count=1, start=start,
                             booked_at=datetime.now(UTC), timezone="America/New_York")  # fmt: skip
    assert booking["price"]["total_cents"] == expected.total_cents
    stored = rows(database_url(), "SELECT payment_intent_id FROM bookings WHERE id = %s", booking["id"])[0]
    intent = gateway().v1.payment_intents.retrieve(stored["payment_intent_id"])
    assert (intent.status, intent.amount, intent.capture_method) == ("requires_capture", expected.total_cents, "manual")
    told = rows(
        database_url(),
        "SELECT event_type, recipient_id::text AS who FROM outbox WHERE starts_with(event_type, 'booking.')",
    )
    assert told == [{"event_type": "booking.requested", "who": walker.id}]


def test_a_declined_card_is_402_and_writes_nothing(api: Api, owner, walker) -> None:
    declining = api.post("/v1/payments/methods", json_body={"gateway_token": "pm_card_chargeCustomerFail"},
                         token=owner.token).json()["id"]  # fmt: skip
    dog = create_dog(api, owner)["id"]

    answer = api.post("/v1/bookings", json_body={**walk(walker, [dog], next_weekday_at(10)),
                                                  "payment_method_id": declining}, token=owner.token)  # fmt: skip

    assert_problem(answer, 402, "payment_declined")
    assert rows(database_url(), "SELECT count(*) AS n FROM bookings") == [{"n": 0}]
    assert rows(database_url(), "SELECT count(*) AS n FROM outbox WHERE starts_with(event_type, 'booking.')") == [
        {"n": 0}
    ]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"start": "past"}, "start"),
        ({"start": "far"}, "start"),
        ({"start": "night"}, "start"),
        ({"pickup": {"lat": 40.9, "lon": -73.7}}, "pickup"),
        ({"dog_ids": "someone-elses"}, "dog_ids"),
        ({"walker_id": "unverified"}, "walker_id"),
    ],
)
def test_each_request_time_rule_is_a_422_with_its_reason(
    api: Api, state, owner, walker, admin, card, change, field
) -> None:
    dog = create_dog(api, owner)["id"]
    body = {**walk(walker, [dog], next_weekday_at(10)), "payment_method_id": card}
    value = next(iter(change.values()))
    if value == "past":
        body["start"] = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    elif value == "far":
        body["start"] = next_weekday_at(10, days_ahead=95).isoformat()
    elif value == "night":
        body["start"] = next_weekday_at(22).isoformat()
    elif value == "someone-elses":
        stranger = new_caller(state, "owner")
        body["dog_ids"] = [create_dog(api, stranger)["id"]]
    elif value == "unverified":
        body["walker_id"] = make_walker(api, state, admin, weekly=EVERY_DAY, verified=False).id
    else:
        body.update(change)

    answer = api.post("/v1/bookings", json_body=body, token=owner.token)

    problem = assert_problem(answer, 422, "validation_error")
    assert any(field in error["loc"] for error in problem["errors"]), problem
    assert rows(database_url(), "SELECT count(*) AS n FROM bookings") == [{"n": 0}]


def test_a_walker_already_accepted_for_that_time_is_409(api: Api, owner, walker, card) -> None:
    from dogwalk.bookings import lifecycle

    dog = create_dog(api, owner)["id"]
    start = next_weekday_at(10)
    first = api.post("/v1/bookings", json_body={**walk(walker, [dog], start), "payment_method_id": card},
                     token=owner.token).json()  # fmt: skip
    lifecycle.move(first["id"], "accepted", actor_id=walker.id)

    again = api.post("/v1/bookings", json_body={**walk(walker, [dog], start + timedelta(minutes=30)),
                                                "payment_method_id": card}, token=owner.token)  # fmt: skip

    assert_problem(again, 409, "booking_conflict")


def test_requests_may_overlap_until_one_is_accepted(api: Api, owner, walker, card) -> None:
    dog = create_dog(api, owner)["id"]
    start = next_weekday_at(10)
    body = {**walk(walker, [dog], start), "payment_method_id": card}

    assert api.post("/v1/bookings", json_body=body, token=owner.token).status == 201
    assert api.post("/v1/bookings", json_body=body, token=owner.token).status == 201


def test_a_weekly_series_is_booked_all_together_each_hold_on_its_own_schedule(api: Api, owner, walker,
                                                                             card) -> None:  # fmt: skip
    dog = create_dog(api, owner)["id"]
    body = {**walk(walker, [dog], next_weekday_at(10)), "payment_method_id": card, "recurrence": {"weekly_count": 4}}

    answer = api.post("/v1/bookings", json_body=body, token=owner.token)

    assert answer.status == 201, answer.body
    series = rows(database_url(), "SELECT start_ts, payment_intent_id, payment_status FROM bookings"
                                  " WHERE series_id = %s ORDER BY start_ts", answer.json()["series_id"])  # fmt: skip
    assert len(series) == 4
    # the first walk is within 5 days: held now; the others are held 5 days before each
    assert [(row["payment_status"], row["payment_intent_id"] is not None) for row in series] == [
        ("authorized", True), ("scheduled", False), ("scheduled", False), ("scheduled", False)
    ]  # fmt: skip
    assert [(b["start_ts"] - a["start_ts"]).days for a, b in pairwise(series)] == [7, 7, 7]


def test_a_series_with_one_impossible_week_books_none(api: Api, state, owner, walker, card) -> None:
    from tests.integration.marketplace.conftest import run_sql

    dog = create_dog(api, owner)["id"]
    start = next_weekday_at(10)
    third_week = start + timedelta(weeks=2)
    off = (third_week - timedelta(hours=1), third_week + timedelta(hours=3))
    run_sql(
        state.database_url,
        "INSERT INTO time_off (id, walker_id, period) VALUES (gen_random_uuid(), %s, tstzrange(%s, %s))",
        walker.id,
        *off,
    )

    answer = api.post("/v1/bookings", json_body={**walk(walker, [dog], start), "payment_method_id": card,
                                                 "recurrence": {"weekly_count": 4}}, token=owner.token)  # fmt: skip

    assert_problem(answer, 422, "validation_error")
    assert rows(database_url(), "SELECT count(*) AS n FROM bookings") == [{"n": 0}]


def test_a_retried_request_with_its_idempotency_key_books_and_holds_once(api: Api, owner, walker, card) -> None:
    dog = create_dog(api, owner)["id"]
    body = {**walk(walker, [dog], next_weekday_at(10)), "payment_method_id": card}
    headers = {"Idempotency-Key": "book-once-1"}

    first = api.post("/v1/bookings", json_body=body, token=owner.token, headers=headers)
    again = api.post("/v1/bookings", json_body=body, token=owner.token, headers=headers)

    assert first.status == again.status == 201
    assert again.json()["id"] == first.json()["id"]
    assert rows(database_url(), "SELECT count(*) AS n FROM bookings") == [{"n": 1}]


def test_bookings_are_visible_to_their_parties_and_admins_only(api: Api, state, owner, walker, admin, card) -> None:
    dog = create_dog(api, owner)["id"]
    booking = api.post("/v1/bookings", json_body={**walk(walker, [dog], next_weekday_at(10)),
                                                  "payment_method_id": card}, token=owner.token).json()  # fmt: skip
    stranger = new_caller(state, "owner")

    for viewer in (owner, walker, admin):
        assert api.get(f"/v1/bookings/{booking['id']}", token=viewer.token).status == 200
    assert_problem(api.get(f"/v1/bookings/{booking['id']}", token=stranger.token), 404, "not_found")
