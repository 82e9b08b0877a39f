"""Reviews: once per completed walk, by its owner; the walker's public rating moves with them."""

from __future__ import annotations

from dogwalk.bookings import lifecycle
from tests.integration.bookings.conftest import database_url, next_weekday_at, walk
from tests.integration.conftest import Api, assert_problem
from tests.integration.marketplace.conftest import Caller, create_dog, new_caller, rows


def completed(api: Api, owner: Caller, walker: Caller, card: str, *, finish: bool = True, week: int = 0) -> str:
    dog = create_dog(api, owner)["id"]
    body = {**walk(walker, [dog], next_weekday_at(10, days_ahead=10 + 7 * week)), "payment_method_id": card}
    booking = api.post("/v1/bookings", json_body=body, token=owner.token).json()["id"]
    lifecycle.move(booking, "accepted", actor_id=walker.id)
    lifecycle.move(booking, "in_progress", actor_id=walker.id)
    if finish:
        lifecycle.move(booking, "completed", actor_id=walker.id)
    return str(booking)


def test_an_owner_reviews_a_completed_walk_once_and_the_rating_moves(api: Api, owner, walker, card) -> None:
    first, second = completed(api, owner, walker, card), completed(api, owner, walker, card, week=1)

    assert api.post(f"/v1/bookings/{first}/review", json_body={"rating": 5, "comment": "Rex loved it"},
                    token=owner.token).status == 201  # fmt: skip
    assert api.post(f"/v1/bookings/{second}/review", json_body={"rating": 4}, token=owner.token).status == 201
    again = api.post(f"/v1/bookings/{first}/review", json_body={"rating": 1}, token=owner.token)

    assert_problem(again, 409, "already_reviewed")
    profile = api.get(f"/v1/walkers/{walker.id}", token=owner.token).json()
    assert (profile["rating_avg"], profile["rating_count"]) == (4.5, 2)
    told = rows(database_url(), "SELECT count(*) AS n FROM outbox WHERE event_type = 'review.received'")
    assert told == [{"n": 2}]


def test_only_a_completed_walk_of_ones_own_can_be_reviewed(api: Api, state, owner, walker, card) -> None:
    started = completed(api, owner, walker, card, finish=False)
    done = completed(api, owner, walker, card, week=1)
    stranger = new_caller(state, "owner")

    assert_problem(api.post(f"/v1/bookings/{started}/review", json_body={"rating": 5}, token=owner.token), 409,
                   "invalid_state")  # fmt: skip
    assert_problem(api.post(f"/v1/bookings/{done}/review", json_body={"rating": 5}, token=stranger.token), 404,
                   "not_found")  # fmt: skip
    assert_problem(api.post(f"/v1/bookings/{done}/review", json_body={"rating": 6}, token=owner.token), 422,
                   "validation_error")  # fmt: skip
    assert_problem(api.post(f"/v1/bookings/{done}/review", json_body={"rating": 5}, token=walker.token), 403,
                   "forbidden")  # fmt: skip
