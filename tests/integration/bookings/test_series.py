"""Weekly series on real PostgreSQL and localstripe: its owner and its walker read it; either ends
it from a moment on, each walk cancelled by the one cancellation of a single booking (the policy's
charge captured and posted, the rest released), one answer listing each walk with its refund;
a walker ending it releases everything; ending it again changes nothing; strangers get 404."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from dogwalk.bookings import series
from tests.conftest import Dependencies
from tests.integration.bookings.conftest import EVERY_DAY, database_url, gateway, next_weekday_at, walk
from tests.integration.conftest import Api, assert_problem
from tests.integration.marketplace.conftest import Caller, create_dog, make_walker, new_caller, rows


def book_series(api: Api, owner: Caller, walker: Caller, card: str, weeks: int = 3) -> list[dict[str, Any]]:
    body = {**walk(walker, [create_dog(api, owner)["id"]], next_weekday_at(10)), "payment_method_id": card,
            "recurrence": {"weekly_count": weeks}}  # fmt: skip
    answer = api.post("/v1/bookings", json_body=body, token=owner.token)
    assert answer.status == 201, answer.body
    series_id = answer.json()["series_id"]
    read = api.get(f"/v1/series/{series_id}", token=owner.token)
    assert read.status == 200, read.body
    walks: list[dict[str, Any]] = read.json()["bookings"]
    return walks


def accept_all(api: Api, walker: Caller, walks: list[dict[str, Any]]) -> None:
    for each in walks:
        assert api.post(f"/v1/bookings/{each['id']}/accept", token=walker.token).status == 200


def money_of(booking_id: str) -> dict[str, Any]:
    return rows(database_url(), "SELECT status, payment_status, payment_intent_id, authorized_cents, captured_cents,"
                " refunded_cents FROM bookings WHERE id = %s", booking_id)[0]  # fmt: skip


def ledger_of(booking_id: str) -> list[dict[str, Any]]:
    return rows(database_url(), "SELECT t.reference, e.account_id, e.amount_cents FROM ledger_entries e JOIN"
                " ledger_transactions t ON t.id = e.transaction_id WHERE t.reference LIKE %s ORDER BY e.id",
                f"%{booking_id}")  # fmt: skip


def test_its_owner_and_its_walker_read_a_series_and_strangers_get_404(api: Api, state: Dependencies, owner: Caller,
                                                                      walker: Caller, card: str,
                                                                      admin: Caller) -> None:  # fmt: skip
    walks = book_series(api, owner, walker, card)
    series_id = walks[0]["series_id"]
    by_walker = api.get(f"/v1/series/{series_id}", token=walker.token)
    assert by_walker.status == 200, by_walker.body
    found = by_walker.json()
    assert (found["id"], found["owner_id"], found["walker_id"]) == (series_id, owner.id, walker.id)
    starts = [datetime.fromisoformat(w["start"]) for w in found["bookings"]]
    assert starts == [starts[0] + timedelta(weeks=n) for n in range(3)]
    # the first walk is held now, the later ones 5 days before each
    assert [w["payment"]["status"] for w in found["bookings"]] == ["authorized", "scheduled", "scheduled"]
    for stranger in (new_caller(state, "owner"), make_walker(api, state, admin, weekly=EVERY_DAY)):
        assert_problem(api.get(f"/v1/series/{series_id}", token=stranger.token), 404, "not_found")
        assert_problem(api.post(f"/v1/series/{series_id}/cancel", json_body={}, token=stranger.token), 404,
                       "not_found")  # fmt: skip
    assert_problem(api.get(f"/v1/series/{uuid.uuid4()}", token=owner.token), 404, "not_found")
    assert_problem(api.get("/v1/series/not-a-uuid", token=owner.token), 404, "not_found")
    assert_problem(api.get(f"/v1/series/{series_id}", token=admin.token), 403, "forbidden")
    assert all(money_of(w["id"])["status"] == "requested" for w in walks)  # nobody cancelled anything


def test_the_owner_ends_a_series_from_a_date_each_walk_by_the_policy(api: Api, owner: Caller, walker: Caller,
                                                                     card: str) -> None:  # fmt: skip
    walks = book_series(api, owner, walker, card)
    accept_all(api, walker, walks)
    first, *later = walks
    series_id = first["series_id"]
    total = first["price"]["total_cents"]
    ten_hours_before = datetime.fromisoformat(first["start"]) - timedelta(hours=10)

    ended = series.cancel(series_id, owner.id, None, now=ten_hours_before)  # 'from' is then: every walk

    refunds = {w["id"]: w["refund_cents"] for w in ended["bookings"]}
    assert refunds == {first["id"]: total - (total + 1) // 2, **{w["id"]: w["price"]["total_cents"] for w in later}}
    assert {w["status"] for w in ended["bookings"]} == {"cancelled"}
    charged = money_of(first["id"])
    assert (charged["payment_status"], charged["captured_cents"]) == ("partially_refunded", (total + 1) // 2)
    at_gateway = gateway().v1.payment_intents.retrieve(
        charged["payment_intent_id"], params={"expand": ["latest_charge"]}
    )
    assert at_gateway.status == "succeeded"
    assert at_gateway.latest_charge.amount - at_gateway.latest_charge.amount_refunded == (total + 1) // 2
    posted = ledger_of(first["id"])
    assert {p["reference"] for p in posted} == {f"cancellation:{first['id']}"}
    assert sum(p["amount_cents"] for p in posted) == 0
    for each in later:  # held later: nothing was held, nothing charged
        assert (money_of(each["id"])["payment_status"], ledger_of(each["id"])) == ("voided", [])

    again = api.post(f"/v1/series/{series_id}/cancel", json_body={"from": ten_hours_before.isoformat()},
                     token=owner.token)  # fmt: skip
    assert again.status == 200, again.body
    assert {w["id"]: w["refund_cents"] for w in again.json()["bookings"]} == refunds  # the same, nothing twice
    assert len(ledger_of(first["id"])) == len(posted)


def test_a_walker_ending_a_series_from_its_second_walk_releases_everything(api: Api, owner: Caller, walker: Caller,
                                                                           card: str) -> None:  # fmt: skip
    walks = book_series(api, owner, walker, card, weeks=4)
    accept_all(api, walker, walks[:2])
    series_id = walks[0]["series_id"]
    assert api.post(f"/v1/bookings/{walks[3]['id']}/cancel", json_body={}, token=owner.token).status == 200
    since = walks[1]["start"]

    answer = api.post(f"/v1/series/{series_id}/cancel", json_body={"from": since, "reason": "moving away"},
                      token=walker.token, headers={"Idempotency-Key": str(uuid.uuid4())})  # fmt: skip

    assert answer.status == 200, answer.body
    listed = answer.json()["bookings"]
    assert [w["id"] for w in listed] == [w["id"] for w in walks[1:]]  # from the second on; the first stays
    assert all(w["status"] == "cancelled" and w["refund_cents"] == w["price"]["total_cents"] for w in listed)
    assert money_of(walks[0]["id"])["status"] == "accepted"
    assert all(money_of(w["id"])["captured_cents"] == 0 for w in walks) and all(ledger_of(w["id"]) == [] for w in walks)
    reasons = rows(database_url(), "SELECT reason FROM booking_transitions WHERE booking_id = %s AND to_status ="
                   " 'cancelled'", walks[1]["id"])  # fmt: skip
    assert reasons == [{"reason": "moving away"}]


def test_bad_input_to_a_series_end_is_422(api: Api, owner: Caller, walker: Caller, card: str) -> None:
    walks = book_series(api, owner, walker, card, weeks=2)
    path = f"/v1/series/{walks[0]['series_id']}/cancel"
    for body in ({"from": "soon"}, {"from": 1700000000}, {"until": "2026-01-01T00:00:00Z"}):
        assert_problem(api.post(path, json_body=body, token=owner.token), 422, "validation_error")
    assert all(money_of(w["id"])["status"] == "requested" for w in walks)
