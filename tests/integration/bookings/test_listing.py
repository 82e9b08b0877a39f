"""Listing one's bookings and reading a booking's payment, through HTTP on real PostgreSQL and
localstripe: who sees which bookings, the status and time filters, keyset pages, the 422s; and
the payment's state after each real flow (held, captured, voided, half or fully charged on a
cancellation), for its parties and an admin only."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

from dogwalk.bookings import lifecycle
from tests.conftest import Dependencies
from tests.integration.bookings.conftest import EVERY_DAY, database_url, next_weekday_at, walk
from tests.integration.conftest import Answer, Api, assert_problem
from tests.integration.marketplace.conftest import (
    Caller,
    create_dog,
    make_walker,
    names_field,
    new_caller,
    rows,
    run_sql,
)


def book(api: Api, owner: Caller, walker: Caller, card: str, start: datetime, **changes: Any) -> dict[str, Any]:
    dog = create_dog(api, owner)["id"]
    body = {**walk(walker, [dog], start, **changes), "payment_method_id": card}
    answer = api.post("/v1/bookings", json_body=body, token=owner.token)
    assert answer.status == 201, answer.body
    return answer.json()


def save_card(api: Api, owner: Caller) -> str:
    answer = api.post("/v1/payments/methods", json_body={"gateway_token": "pm_card_visa"}, token=owner.token)
    assert answer.status == 201, answer.body
    return str(answer.json()["id"])


def listing(api: Api, caller: Caller, **query: Any) -> Answer:
    return api.get("/v1/bookings" + (f"?{urlencode(query)}" if query else ""), token=caller.token)


def listed_ids(api: Api, caller: Caller, **query: Any) -> list[str]:
    answer = listing(api, caller, **query)
    assert answer.status == 200, answer.body
    assert answer.json()["next_cursor"] is None
    return [booking["id"] for booking in answer.json()["items"]]


def start_of(booking_id: str) -> datetime:
    return rows(database_url(), "SELECT start_ts FROM bookings WHERE id = %s", booking_id)[0]["start_ts"]


# --- the list ------------------------------------------------------------------------------------


def test_an_owner_lists_only_their_own_bookings_by_start(api: Api, state: Dependencies, owner, walker, card) -> None:
    later = book(api, owner, walker, card, next_weekday_at(15))
    sooner = book(api, owner, walker, card, next_weekday_at(9))
    neighbour = new_caller(state, "owner")
    theirs = book(api, neighbour, walker, save_card(api, neighbour), next_weekday_at(12))

    answer = listing(api, owner)

    assert answer.status == 200, answer.body
    assert [b["id"] for b in answer.json()["items"]] == [sooner["id"], later["id"]]
    assert answer.json()["items"][0] == sooner  # the same booking GET /v1/bookings/{id} and POST show
    assert answer.json()["next_cursor"] is None
    assert listed_ids(api, neighbour) == [theirs["id"]]


def test_an_owner_without_bookings_sees_none_of_the_others(api: Api, state: Dependencies, owner, walker, card) -> None:
    book(api, owner, walker, card, next_weekday_at(9))

    assert listed_ids(api, new_caller(state, "owner")) == []


def test_a_walker_lists_the_walks_booked_with_them_and_no_other_walkers(
    api: Api, state: Dependencies, admin, owner, walker, card
) -> None:
    neighbour = new_caller(state, "owner")
    second = book(api, neighbour, walker, save_card(api, neighbour), next_weekday_at(12))
    first = book(api, owner, walker, card, next_weekday_at(9))
    other_walker = make_walker(api, state, admin, weekly=EVERY_DAY)
    elsewhere = book(api, owner, other_walker, card, next_weekday_at(10))

    assert listed_ids(api, walker) == [first["id"], second["id"]]
    assert listed_ids(api, other_walker) == [elsewhere["id"]]
    assert listed_ids(api, owner) == [first["id"], elsewhere["id"]]


def test_the_status_filter_keeps_the_bookings_in_that_state(api: Api, owner, walker, card) -> None:
    requested = book(api, owner, walker, card, next_weekday_at(9))
    accepted = book(api, owner, walker, card, next_weekday_at(11))
    declined = book(api, owner, walker, card, next_weekday_at(13))
    assert api.post(f"/v1/bookings/{accepted['id']}/accept", token=walker.token).status == 200
    assert api.post(f"/v1/bookings/{declined['id']}/decline", token=walker.token).status == 200

    for caller in (owner, walker):
        assert listed_ids(api, caller, status="requested") == [requested["id"]]
        assert listed_ids(api, caller, status="accepted") == [accepted["id"]]
        assert listed_ids(api, caller, status="declined") == [declined["id"]]
        assert listed_ids(api, caller, status="completed") == []
        assert listed_ids(api, caller) == [requested["id"], accepted["id"], declined["id"]]
    assert {b["status"] for b in listing(api, owner, status="accepted").json()["items"]} == {"accepted"}


def test_from_is_inclusive_and_to_exclusive_whatever_the_offset(api: Api, owner, walker, card) -> None:
    first = book(api, owner, walker, card, next_weekday_at(10), recurrence={"weekly_count": 3})
    series = rows(database_url(), "SELECT id::text, start_ts FROM bookings WHERE series_id = %s ORDER BY start_ts",
                  first["series_id"])  # fmt: skip
    (a, a_start), (b, b_start), (c, c_start) = [(row["id"], row["start_ts"]) for row in series]
    assert a == first["id"]
    plus_two = timezone(timedelta(hours=2))  # a "+" offset must survive the query string too

    def window(**bounds: datetime) -> list[str]:
        return listed_ids(
            api, owner, **{name: moment.astimezone(plus_two).isoformat() for name, moment in bounds.items()}
        )

    assert window(**{"from": b_start, "to": c_start}) == [b]
    assert window(**{"from": b_start}) == [b, c]
    assert window(to=b_start) == [a]
    assert window(**{"from": a_start + timedelta(seconds=1), "to": c_start + timedelta(seconds=1)}) == [b, c]
    assert window(**{"from": c_start + timedelta(minutes=1)}) == []
    assert listed_ids(api, walker, **{"from": b_start.isoformat(), "to": c_start.isoformat()}) == [b]


def test_five_bookings_two_at_a_time_come_in_order_each_once(api: Api, owner, walker, card) -> None:
    # two requests at the same time: the page boundary falls between them (ties go by id)
    starts = [next_weekday_at(9), next_weekday_at(11), next_weekday_at(11), next_weekday_at(14), next_weekday_at(16)]
    created = [book(api, owner, walker, card, start)["id"] for start in reversed(starts)]

    pages, cursor = [], None
    while True:
        answer = listing(api, owner, limit=2, **({"cursor": cursor} if cursor else {}))
        assert answer.status == 200, answer.body
        pages.append([b["id"] for b in answer.json()["items"]])
        cursor = answer.json()["next_cursor"]
        if cursor is None:
            break
        assert len(pages) < 5, "pagination does not end"

    assert [len(page) for page in pages] == [2, 2, 1]
    listed = [booking_id for page in pages for booking_id in page]
    by_start = rows(database_url(), "SELECT id::text FROM bookings ORDER BY start_ts, id")
    assert listed == [row["id"] for row in by_start]
    assert sorted(listed) == sorted(created)


def test_to_not_after_from_is_a_422(api: Api, owner, walker, card) -> None:
    start = next_weekday_at(10)
    book(api, owner, walker, card, start)

    for to in (start, start - timedelta(hours=1)):
        answer = listing(api, owner, **{"from": start.isoformat(), "to": to.isoformat()})
        assert names_field(answer, "to"), to


def test_bad_query_values_are_a_422_naming_the_field(api: Api, owner) -> None:
    cases = {
        "limit": [{"limit": "0"}, {"limit": "101"}, {"limit": "many"}],
        "status": [{"status": "lost"}],
        "from": [{"from": "2026-11-25T09:00:00"}, {"from": "tomorrow"}],  # no offset; not a time
        "to": [{"to": "2026-11-25"}],
    }
    for field, queries in cases.items():
        for query in queries:
            assert names_field(listing(api, owner, **query), field), query


def test_a_cursor_the_api_did_not_give_is_a_422(api: Api, owner, walker, card) -> None:
    book(api, owner, walker, card, next_weekday_at(10))

    def encoded(key: Any) -> str:
        return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()

    forged = {
        "garbage": "not-a-cursor",
        "bad base64": "!!!!",
        "not a list": encoded({"a": 1}),
        "the wrong length": encoded(["2026-11-25T00:00:00+00:00"]),
        "a naive time": encoded(["2026-11-25T00:00:00", "8f0e6f1c-1111-4c59-9d8e-0a6f3b1c2d4e"]),
        "not an id": encoded(["2026-11-25T00:00:00+00:00", "not-a-uuid"]),
        "numbers": encoded([1, 2]),
    }
    for case, cursor in forged.items():
        assert names_field(listing(api, owner, cursor=cursor), "cursor"), case


def test_an_admin_may_not_list_bookings(api: Api, admin, owner, walker, card) -> None:
    book(api, owner, walker, card, next_weekday_at(10))

    assert_problem(listing(api, admin), 403, "forbidden")


# --- the payment ---------------------------------------------------------------------------------


def payment(api: Api, booking_id: str, caller: Caller) -> dict[str, Any]:
    answer = api.get(f"/v1/bookings/{booking_id}/payment", token=caller.token)
    assert answer.status == 200, answer.body
    return answer.json()


def expected(status: str, total: int, captured: int = 0, refunded: int = 0) -> dict[str, Any]:
    return {
        "status": status,
        "authorized_cents": total,
        "captured_cents": captured,
        "refunded_cents": refunded,
        "tip_cents": 0,
        "currency": "USD",
    }


def accept(api: Api, walker: Caller, booking: dict[str, Any]) -> None:
    assert api.post(f"/v1/bookings/{booking['id']}/accept", token=walker.token).status == 200


def test_a_requested_walk_is_held_not_charged(api: Api, owner, walker, card) -> None:
    booking = book(api, owner, walker, card, next_weekday_at(10))

    assert payment(api, booking["id"], owner) == expected("authorized", booking["price"]["total_cents"])
    accept(api, walker, booking)
    assert payment(api, booking["id"], owner) == expected("authorized", booking["price"]["total_cents"])


def test_its_walker_and_an_admin_see_the_payment_too(api: Api, admin, owner, walker, card) -> None:
    booking = book(api, owner, walker, card, next_weekday_at(10))

    seen = [payment(api, booking["id"], caller) for caller in (owner, walker, admin)]

    assert seen == [expected("authorized", booking["price"]["total_cents"])] * 3


def test_anyone_else_gets_a_404(api: Api, state: Dependencies, owner, walker, card) -> None:
    booking = book(api, owner, walker, card, next_weekday_at(10))

    for stranger in (new_caller(state, "owner"), new_caller(state, "walker")):
        assert_problem(api.get(f"/v1/bookings/{booking['id']}/payment", token=stranger.token), 404, "not_found")
    for missing in ("8f0e6f1c-1111-4c59-9d8e-0a6f3b1c2d4e", "not-a-booking"):
        assert_problem(api.get(f"/v1/bookings/{missing}/payment", token=owner.token), 404, "not_found")


def test_a_completed_walk_is_captured_in_full(api: Api, owner, walker, card) -> None:
    booking = book(api, owner, walker, card, next_weekday_at(10))
    accept(api, walker, booking)
    run_sql(database_url(), "UPDATE bookings SET start_ts = now() + interval '5 minutes',"
            " end_ts = now() + interval '65 minutes' WHERE id = %s", booking["id"])  # fmt: skip
    assert api.post(f"/v1/bookings/{booking['id']}/start", token=walker.token).status == 200
    assert api.post(f"/v1/bookings/{booking['id']}/complete", token=walker.token).status == 200

    total = booking["price"]["total_cents"]
    assert payment(api, booking["id"], owner) == expected("captured", total, captured=total)


def test_a_free_cancellation_voids_the_hold(api: Api, owner, walker, card) -> None:
    booking = book(api, owner, walker, card, next_weekday_at(10))
    accept(api, walker, booking)

    answer = api.post(f"/v1/bookings/{booking['id']}/cancel", json_body={}, token=owner.token)

    assert answer.status == 200, answer.body
    total = booking["price"]["total_cents"]
    assert answer.json()["refund_cents"] == total
    assert payment(api, booking["id"], owner) == expected("voided", total, refunded=total)


def test_a_declined_request_voids_the_hold_like_a_free_cancellation(api: Api, owner, walker, card) -> None:
    booking = book(api, owner, walker, card, next_weekday_at(10))

    assert api.post(f"/v1/bookings/{booking['id']}/decline", token=walker.token).status == 200

    total = booking["price"]["total_cents"]
    # all of the hold went back, as after a free cancellation: authorized = captured + refunded
    assert payment(api, booking["id"], owner) == expected("voided", total, refunded=total)


def test_an_owner_cancelling_five_hours_ahead_is_half_captured_the_rest_released(api: Api, owner, walker, card) -> None:
    booking = book(api, owner, walker, card, next_weekday_at(10))
    accept(api, walker, booking)

    lifecycle.cancel(booking["id"], owner.id, None, now=start_of(booking["id"]) - timedelta(hours=5))

    total = booking["price"]["total_cents"]
    half = (total + 1) // 2
    assert payment(api, booking["id"], owner) == expected("partially_refunded", total, half, total - half)


def test_an_owner_cancelling_under_two_hours_ahead_is_captured_in_full(api: Api, owner, walker, card) -> None:
    booking = book(api, owner, walker, card, next_weekday_at(10))
    accept(api, walker, booking)

    lifecycle.cancel(booking["id"], owner.id, None, now=start_of(booking["id"]) - timedelta(minutes=90))

    total = booking["price"]["total_cents"]
    assert payment(api, booking["id"], owner) == expected("captured", total, captured=total)
