"""Booking changes on real PostgreSQL and localstripe: a request re-quoted and changed at once (its
hold replaced by one of the new total, the old voided), an accepted walk's proposal answered by its
walker (accepted: new time, dogs and price; declined: unchanged), a newer proposal superseding the
older, the exclusion constraint refusing an overlap at acceptance, a re-authorization that declines
leaving everything as it was, a hold still to be placed only changing its amount (or placed at once
when the walk moves within 5 days, or scheduled again when it moves beyond), the audit rows and the
events; and every refusal (strangers 404, the other role 403, bad input 422, the wrong state 409)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from dogwalk.bookings import holds
from tests.conftest import Dependencies
from tests.integration.bookings.conftest import EVERY_DAY, database_url, gateway, intent_of, next_weekday_at, walk
from tests.integration.bookings.test_scheduled_holds import run_job, save_card
from tests.integration.conftest import Api, assert_problem
from tests.integration.marketplace.conftest import Caller, create_dog, make_walker, new_caller, rows, run_sql


def book(api: Api, owner: Caller, walker: Caller, card: str, start: datetime, dogs: list[str] | None = None,
         **fields: Any) -> dict[str, Any]:  # fmt: skip
    dogs = dogs or [create_dog(api, owner)["id"]]
    answer = api.post("/v1/bookings", json_body={**walk(walker, dogs, start, **fields), "payment_method_id": card},
                      token=owner.token)  # fmt: skip
    assert answer.status == 201, answer.body
    return dict(answer.json())


def quote(api: Api, owner: Caller, walker: Caller, dogs: list[str], start: datetime, minutes: int) -> dict[str, Any]:
    answer = api.post("/v1/bookings/quote", json_body=walk(walker, dogs, start, duration_min=minutes),
                      token=owner.token)  # fmt: skip
    assert answer.status == 200, answer.body
    return dict(answer.json())


def change(api: Api, owner: Caller, booking_id: str, **body: Any) -> Any:
    return api.post(f"/v1/bookings/{booking_id}/changes", json_body=body, token=owner.token)


def answer_change(api: Api, walker: Caller, booking: dict[str, Any], change_id: str, verb: str) -> Any:
    return api.post(f"/v1/bookings/{booking['id']}/changes/{change_id}/{verb}", token=walker.token)


def accepted(api: Api, owner: Caller, walker: Caller, card: str, start: datetime, **fields: Any) -> dict[str, Any]:
    booking = book(api, owner, walker, card, start, **fields)
    answer = api.post(f"/v1/bookings/{booking['id']}/accept", token=walker.token)
    assert answer.status == 200, answer.body
    return dict(answer.json())


def booking_row(booking_id: str) -> dict[str, Any]:
    query = ("SELECT status, start_ts, end_ts, payment_status, payment_intent_id, authorized_cents,"
             " (price->>'total_cents')::int AS total, hold_attempts FROM bookings WHERE id = %s")  # fmt: skip
    found = rows(database_url(), query, booking_id)
    return found[0]


def intent(intent_id: str) -> Any:
    return gateway().v1.payment_intents.retrieve(intent_id)


def audit(booking_id: str) -> list[tuple[str, str, str | None]]:
    found = rows(database_url(), "SELECT from_status, to_status, reason FROM booking_transitions WHERE booking_id = %s"
                 " ORDER BY id", booking_id)  # fmt: skip
    return [(r["from_status"], r["to_status"], r["reason"]) for r in found]


def events_of(booking_id: str, event_type: str) -> list[dict[str, Any]]:
    return rows(database_url(), "SELECT recipient_id::text, recipient_role, payload FROM outbox WHERE event_type = %s"
                " AND payload->>'booking_id' = %s ORDER BY created_at", event_type, booking_id)  # fmt: skip


# --- a request changes at once ---------------------------------------------------------------------


def test_a_request_is_requoted_and_its_hold_replaced_at_once(api: Api, owner: Caller, walker: Caller,
                                                             card: str) -> None:  # fmt: skip
    dogs = [create_dog(api, owner)["id"], create_dog(api, owner)["id"]]
    booking = book(api, owner, walker, card, next_weekday_at(10), dogs[:1])
    old_intent = intent_of(booking["id"])
    new_start = next_weekday_at(14)

    answer = change(api, owner, booking["id"], start=new_start.isoformat(), duration_min=90, dog_ids=dogs)

    assert answer.status == 200, answer.body
    changed = answer.json()
    expected = quote(api, owner, walker, dogs, new_start, 90)
    assert changed["price"] == expected and changed["price"]["total_cents"] != booking["price"]["total_cents"]
    assert datetime.fromisoformat(changed["start"]) == new_start
    assert datetime.fromisoformat(changed["end"]) == new_start + timedelta(minutes=90)
    assert sorted(changed["dog_ids"]) == sorted(dogs) and changed["status"] == "requested"
    assert changed["payment"]["status"] == "authorized"
    row = booking_row(booking["id"])
    assert row["payment_intent_id"] != old_intent and row["authorized_cents"] == expected["total_cents"]
    assert (intent(old_intent).status, intent(row["payment_intent_id"]).status) == ("canceled", "requires_capture")
    assert intent(row["payment_intent_id"]).amount == expected["total_cents"]
    made = rows(database_url(), "SELECT id::text, status, payment_intent_id FROM booking_changes WHERE booking_id = %s",
                booking["id"])  # fmt: skip
    assert [(m["status"], m["payment_intent_id"]) for m in made] == [("applied", row["payment_intent_id"])]
    assert audit(booking["id"])[-1] == ("requested", "requested", f"change {made[0]['id']} applied")
    (told,) = events_of(booking["id"], "booking.changed")
    assert (told["recipient_id"], told["recipient_role"]) == (walker.id, "walker")
    assert told["payload"]["amount_cents"] == expected["total_cents"]


def test_a_change_keeping_the_total_keeps_the_hold(api: Api, owner: Caller, walker: Caller, card: str) -> None:
    booking = book(api, owner, walker, card, next_weekday_at(10))
    held = intent_of(booking["id"])
    answer = change(api, owner, booking["id"], start=next_weekday_at(11).isoformat())
    assert answer.status == 200, answer.body
    assert answer.json()["price"]["total_cents"] == booking["price"]["total_cents"]
    assert intent_of(booking["id"]) == held and intent(held).status == "requires_capture"


def test_a_declined_reauthorization_is_402_and_changes_nothing(api: Api, owner: Caller, walker: Caller,
                                                               card: str) -> None:  # fmt: skip
    booking = book(api, owner, walker, card, next_weekday_at(10))
    held = intent_of(booking["id"])
    failing = save_card(api, owner, "pm_card_chargeCustomerFail")  # the booking's card now declines when charged
    run_sql(database_url(), "UPDATE bookings SET payment_method_id = %s WHERE id = %s", failing, booking["id"])
    before = booking_row(booking["id"])

    assert_problem(change(api, owner, booking["id"], duration_min=120), 402, "payment_declined")

    assert booking_row(booking["id"]) == before
    assert intent(held).status == "requires_capture"
    assert rows(database_url(), "SELECT 1 FROM booking_changes WHERE booking_id = %s", booking["id"]) == []
    assert api.get(f"/v1/bookings/{booking['id']}", token=owner.token).json()["price"] == booking["price"]


# --- an accepted walk: proposed, then answered --------------------------------------------------------


def test_an_accepted_walk_gets_a_proposal_its_walker_accepts(api: Api, owner: Caller, walker: Caller,
                                                             card: str) -> None:  # fmt: skip
    booking = accepted(api, owner, walker, card, next_weekday_at(10))
    old_intent = intent_of(booking["id"])
    new_start = next_weekday_at(15)

    proposed = change(api, owner, booking["id"], start=new_start.isoformat(), duration_min=120)

    assert proposed.status == 201, proposed.body
    made = proposed.json()
    expected = quote(api, owner, walker, booking["dog_ids"], new_start, 120)
    assert (made["status"], made["quote"], made["booking_id"]) == ("proposed", expected, booking["id"])
    assert api.get(f"/v1/bookings/{booking['id']}", token=owner.token).json() == booking  # unchanged until answered
    (told,) = events_of(booking["id"], "booking.change_proposed")
    assert (told["recipient_id"], told["payload"]["change_id"]) == (walker.id, made["id"])

    answer = answer_change(api, walker, booking, made["id"], "accept")

    assert answer.status == 200, answer.body
    now = answer.json()
    assert (now["status"], now["price"], datetime.fromisoformat(now["start"])) == ("accepted", expected, new_start)
    row = booking_row(booking["id"])
    assert intent(old_intent).status == "canceled"
    assert (intent(row["payment_intent_id"]).status, intent(row["payment_intent_id"]).amount) == (
        "requires_capture", expected["total_cents"])  # fmt: skip
    (changed,) = events_of(booking["id"], "booking.changed")
    assert (changed["recipient_id"], changed["recipient_role"]) == (owner.id, "owner")
    assert audit(booking["id"])[-2:] == [("accepted", "accepted", f"change {made['id']} proposed"),
                                         ("accepted", "accepted", f"change {made['id']} applied")]  # fmt: skip
    again = answer_change(api, walker, booking, made["id"], "accept")
    assert_problem(again, 409, "invalid_state")


def test_a_declined_change_leaves_the_booking_as_it_was(api: Api, owner: Caller, walker: Caller, card: str) -> None:
    booking = accepted(api, owner, walker, card, next_weekday_at(10))
    made = change(api, owner, booking["id"], duration_min=30).json()

    answer = answer_change(api, walker, booking, made["id"], "decline")

    assert answer.status == 200 and answer.json()["status"] == "declined", answer.body
    assert api.get(f"/v1/bookings/{booking['id']}", token=owner.token).json() == booking
    assert intent(intent_of(booking["id"])).amount == booking["price"]["total_cents"]
    assert audit(booking["id"])[-1] == ("accepted", "accepted", f"change {made['id']} declined")
    assert_problem(answer_change(api, walker, booking, made["id"], "accept"), 409, "invalid_state")


def test_a_newer_proposal_supersedes_the_open_one(api: Api, owner: Caller, walker: Caller, card: str) -> None:
    booking = accepted(api, owner, walker, card, next_weekday_at(10))
    first = change(api, owner, booking["id"], duration_min=30).json()
    second = change(api, owner, booking["id"], duration_min=90).json()

    assert_problem(answer_change(api, walker, booking, first["id"], "accept"), 409, "invalid_state")
    assert answer_change(api, walker, booking, second["id"], "accept").status == 200
    found = rows(database_url(), "SELECT id::text, status FROM booking_changes WHERE booking_id = %s", booking["id"])
    assert {r["id"]: r["status"] for r in found} == {first["id"]: "superseded", second["id"]: "accepted"}


def test_accepting_a_change_into_an_overlap_is_refused_by_the_constraint(api: Api, owner: Caller, walker: Caller,
                                                                         card: str) -> None:  # fmt: skip
    moving = accepted(api, owner, walker, card, next_weekday_at(10))
    other = book(api, owner, walker, card, next_weekday_at(14))  # requested: not in the way of a proposal
    made = change(api, owner, moving["id"], start=next_weekday_at(14).isoformat()).json()
    assert api.post(f"/v1/bookings/{other['id']}/accept", token=walker.token).status == 200
    before, held = booking_row(moving["id"]), intent_of(moving["id"])

    assert_problem(answer_change(api, walker, moving, made["id"], "accept"), 409, "booking_conflict")

    assert booking_row(moving["id"]) == before and intent(held).status == "requires_capture"
    assert rows(database_url(), "SELECT status FROM booking_changes WHERE id = %s", made["id"]) == [
        {"status": "proposed"}]  # fmt: skip
    # and a proposal into a time taken already is refused at once, as a new request would be
    assert_problem(change(api, owner, moving["id"], start=next_weekday_at(14).isoformat()), 409, "booking_conflict")


# --- holds placed later ---------------------------------------------------------------------------------


def test_a_hold_still_to_be_placed_only_changes_its_amount(api: Api, owner: Caller, walker: Caller, card: str) -> None:
    far = next_weekday_at(10, days_ahead=20)
    booking = book(api, owner, walker, card, far)
    assert booking["payment"]["status"] == "scheduled"

    answer = change(api, owner, booking["id"], duration_min=120)

    assert answer.status == 200 and answer.json()["payment"]["status"] == "scheduled", answer.body
    total = answer.json()["price"]["total_cents"]
    row = booking_row(booking["id"])
    assert (row["payment_intent_id"], row["authorized_cents"], row["total"]) == (None, 0, total)
    assert row["hold_attempts"] == 1  # an attempt skipped: one lost at the old price is never repeated at the new
    run_job(far - holds.HOLD_AHEAD + timedelta(minutes=1))
    placed = booking_row(booking["id"])
    assert placed["payment_status"] == "authorized" and intent(placed["payment_intent_id"]).amount == total


def test_moving_a_walk_within_five_days_holds_it_at_once_and_beyond_schedules_it(
    api: Api, owner: Caller, walker: Caller, card: str
) -> None:
    booking = book(api, owner, walker, card, next_weekday_at(10, days_ahead=20))
    near = next_weekday_at(10)
    answer = change(api, owner, booking["id"], start=near.isoformat())
    assert answer.status == 200 and answer.json()["payment"]["status"] == "authorized", answer.body
    held = intent_of(booking["id"])
    assert intent(held).amount == answer.json()["price"]["total_cents"]

    far = change(api, owner, booking["id"], start=next_weekday_at(10, days_ahead=30).isoformat())

    assert far.status == 200 and far.json()["payment"]["status"] == "scheduled", far.body
    assert intent(held).status == "canceled"
    row = booking_row(booking["id"])
    assert (row["payment_intent_id"], row["authorized_cents"]) == (None, 0)


# --- idempotency ------------------------------------------------------------------------------------------


def test_a_retried_proposal_with_its_key_is_answered_once(api: Api, owner: Caller, walker: Caller, card: str) -> None:
    booking = accepted(api, owner, walker, card, next_weekday_at(10))
    key = {"Idempotency-Key": str(uuid.uuid4())}
    path = f"/v1/bookings/{booking['id']}/changes"
    first = api.post(path, json_body={"duration_min": 90}, token=owner.token, headers=key)
    again = api.post(path, json_body={"duration_min": 90}, token=owner.token, headers=key)
    assert first.status == again.status == 201 and first.json() == again.json()
    assert again.headers.get("idempotent-replayed") == "true"
    assert_problem(api.post(path, json_body={"duration_min": 30}, token=owner.token, headers=key), 409,
                   "idempotency_conflict")  # fmt: skip
    assert len(rows(database_url(), "SELECT 1 FROM booking_changes WHERE booking_id = %s", booking["id"])) == 1


# --- refusals -------------------------------------------------------------------------------------------


def test_strangers_get_404_and_the_other_role_403(api: Api, state: Dependencies, owner: Caller, walker: Caller,
                                                  card: str, admin: Caller) -> None:  # fmt: skip
    booking = accepted(api, owner, walker, card, next_weekday_at(10))
    made = change(api, owner, booking["id"], duration_min=90).json()
    stranger_owner = new_caller(state, "owner")
    stranger_walker = make_walker(api, state, admin, weekly=EVERY_DAY)

    assert_problem(change(api, stranger_owner, booking["id"], duration_min=30), 404, "not_found")
    assert_problem(change(api, owner, str(uuid.uuid4()), duration_min=30), 404, "not_found")
    assert_problem(change(api, owner, "not-a-uuid", duration_min=30), 404, "not_found")
    for verb in ("accept", "decline"):
        assert_problem(answer_change(api, stranger_walker, booking, made["id"], verb), 404, "not_found")
        assert_problem(answer_change(api, walker, booking, str(uuid.uuid4()), verb), 404, "not_found")
        assert_problem(api.post(f"/v1/bookings/{booking['id']}/changes/{made['id']}/{verb}", token=owner.token),
                       403, "forbidden")  # fmt: skip
    assert_problem(change(api, walker, booking["id"], duration_min=30), 403, "forbidden")
    assert_problem(change(api, admin, booking["id"], duration_min=30), 403, "forbidden")
    # another booking's change is not this booking's
    other = accepted(api, owner, walker, card, next_weekday_at(15))
    assert_problem(answer_change(api, walker, other, made["id"], "accept"), 404, "not_found")
    assert rows(database_url(), "SELECT status FROM booking_changes WHERE id = %s", made["id"]) == [
        {"status": "proposed"}]  # fmt: skip


def test_bad_changes_are_422_and_change_nothing(api: Api, state: Dependencies, owner: Caller, walker: Caller,
                                                card: str) -> None:  # fmt: skip
    booking = book(api, owner, walker, card, next_weekday_at(10))
    before, held = booking_row(booking["id"]), intent_of(booking["id"])
    someone_elses = create_dog(api, new_caller(state, "owner"))["id"]
    six = [create_dog(api, owner)["id"] for _ in range(5)]  # the walker takes at most 3 (make_walker's default)
    for body, loc in (
        ({}, ["body"]),
        ({"duration_min": 50}, ["body", "duration_min"]),
        ({"start": (datetime.now().astimezone() - timedelta(hours=1)).isoformat()}, ["body", "start"]),
        ({"start": next_weekday_at(22).isoformat()}, ["body", "start"]),  # the walker does not work then
        ({"start": "tomorrow"}, ["body", "start"]),
        ({"dog_ids": [someone_elses]}, ["body", "dog_ids"]),
        ({"dog_ids": six}, ["body", "dog_ids"]),
        ({"dog_ids": []}, ["body", "dog_ids"]),
        ({"walker_id": walker.id, "duration_min": 90}, ["body", "walker_id"]),
        ({"start": booking["start"]}, ["body"]),  # changes nothing
    ):
        answer = change(api, owner, booking["id"], **body)
        problem = assert_problem(answer, 422, "validation_error")
        assert any(error["loc"][: len(loc)] == loc for error in problem["errors"]), (body, problem)
    assert booking_row(booking["id"]) == before and intent_of(booking["id"]) == held
    assert rows(database_url(), "SELECT 1 FROM booking_changes") == []


def test_changes_of_cancelled_or_started_walks_are_409(api: Api, owner: Caller, walker: Caller, card: str) -> None:
    cancelled = accepted(api, owner, walker, card, next_weekday_at(10))
    made = change(api, owner, cancelled["id"], duration_min=90).json()
    assert api.post(f"/v1/bookings/{cancelled['id']}/cancel", json_body={}, token=owner.token).status == 200
    assert_problem(change(api, owner, cancelled["id"], duration_min=30), 409, "invalid_state")
    assert_problem(answer_change(api, walker, cancelled, made["id"], "accept"), 409, "invalid_state")
    assert_problem(answer_change(api, walker, cancelled, made["id"], "decline"), 409, "invalid_state")

    started = accepted(api, owner, walker, card, next_weekday_at(14))
    run_sql(database_url(), "UPDATE bookings SET start_ts = now() + interval '5 minutes',"
            " end_ts = now() + interval '65 minutes' WHERE id = %s", started["id"])  # fmt: skip
    assert api.post(f"/v1/bookings/{started['id']}/start", token=walker.token).status == 200
    assert_problem(change(api, owner, started["id"], duration_min=30), 409, "invalid_state")
