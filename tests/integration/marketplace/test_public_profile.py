"""The public walker profile: what owners see of a verified, not suspended walker. Anyone else's
view of an unverified or suspended walker is not found; walkers always see their own."""

from __future__ import annotations

from tests.conftest import Dependencies
from tests.integration.marketplace.conftest import (
    PROFILE,
    Caller,
    MarketApi,
    assert_problem,
    new_caller,
    put_profile,
    run_sql,
    submit,
    verify,
)


def test_a_verified_walkers_public_profile(
    api: MarketApi, state: Dependencies, walker: Caller, admin: Caller, owner: Caller
) -> None:
    put_profile(api, walker)
    verify(api, walker, admin)
    run_sql(
        state.database_url,
        "UPDATE walker_profiles SET rating_sum = 14, rating_count = 3, completed_walks = 5, no_shows = 1"
        " WHERE user_id = %s",
        walker.id,
    )

    answer = api.get(f"/v1/walkers/{walker.id}", token=owner.token)

    assert answer.status == 200
    assert answer.json() == {
        "id": walker.id,
        "name": "Test walker",
        "bio": PROFILE["bio"],
        "price_cents_per_30min": PROFILE["price_cents_per_30min"],
        "verified": True,
        "rating_avg": 4.67,
        "rating_count": 3,
        "completed_walks": 5,
        "no_shows": 1,
        "service_area": PROFILE["service_area"],
    }


def test_a_walker_without_ratings_has_no_average(api: MarketApi, walker: Caller, admin: Caller, owner: Caller) -> None:
    put_profile(api, walker)
    verify(api, walker, admin)

    body = api.get(f"/v1/walkers/{walker.id}", token=owner.token).json()

    assert (body["rating_avg"], body["rating_count"], body["completed_walks"]) == (None, 0, 0)


def test_an_unverified_walker_is_not_found_by_others_but_visible_to_themselves_and_admins(
    api: MarketApi, state: Dependencies, walker: Caller, owner: Caller, admin: Caller
) -> None:
    put_profile(api, walker)
    other_walker = new_caller(state, "walker")

    for unverified_state in ("unverified", "pending"):
        if unverified_state == "pending":
            assert submit(api, walker).status == 202
        for other in (owner, other_walker):
            assert_problem(api.get(f"/v1/walkers/{walker.id}", token=other.token), 404, "not_found")
        for viewer in (walker, admin):
            seen = api.get(f"/v1/walkers/{walker.id}", token=viewer.token)
            assert seen.status == 200, unverified_state
            assert seen.json()["verified"] is False


def test_a_suspended_verified_walker_is_not_found_by_others(
    api: MarketApi, walker: Caller, admin: Caller, owner: Caller
) -> None:
    put_profile(api, walker)
    verify(api, walker, admin)
    assert api.get(f"/v1/walkers/{walker.id}", token=owner.token).status == 200

    assert api.post(f"/v1/admin/users/{walker.id}/suspend", token=admin.token).status == 204

    assert_problem(api.get(f"/v1/walkers/{walker.id}", token=owner.token), 404, "not_found")


def test_an_unknown_or_malformed_walker_id_is_not_found(api: MarketApi, owner: Caller) -> None:
    for walker_id in ("00000000-0000-0000-0000-000000000000", "not-a-uuid", owner.id):
        assert_problem(api.get(f"/v1/walkers/{walker_id}", token=owner.token), 404, "not_found")
