"""A walker sets up shop: the profile (price, service area, sizes, timezone), weekly windows in
local time, and time off. Bad input is a 422 naming the field; owners may not call."""

from __future__ import annotations

from typing import Any

from tests.conftest import Dependencies
from tests.integration.marketplace.conftest import (
    Caller,
    MarketApi,
    assert_problem,
    error_locs,
    names_field,
    profile,
    put_profile,
    put_weekly,
    rows,
    verify,
)

# --- profile ------------------------------------------------------------------------------------


def test_put_profile_creates_it_then_updates_it(api: MarketApi, walker: Caller) -> None:
    created = api.put("/v1/walkers/me/profile", json_body=profile(), token=walker.token)

    assert created.status == 200
    body = created.json()
    assert body["id"] == walker.id
    assert body["price_cents_per_30min"] == 2000
    assert body["service_area"] == profile()["service_area"]
    assert sorted(body["accepted_sizes"]) == sorted(profile()["accepted_sizes"])
    assert body["timezone"] == "America/New_York"
    assert body["verification"] == "unverified"

    updated = api.put(
        "/v1/walkers/me/profile",
        json_body=profile(price_cents_per_30min=2500, radius_km=2.5, accepted_sizes=["small"], bio="Small dogs only."),
        token=walker.token,
    )

    assert updated.status == 200
    assert updated.json()["price_cents_per_30min"] == 2500
    assert updated.json()["service_area"]["radius_km"] == 2.5
    assert updated.json()["accepted_sizes"] == ["small"]
    assert updated.json()["bio"] == "Small dogs only."


def test_updating_the_profile_keeps_the_verification(
    api: MarketApi, state: Dependencies, walker: Caller, admin: Caller
) -> None:
    put_profile(api, walker)
    verify(api, walker, admin)

    assert put_profile(api, walker, price_cents_per_30min=3000)["verification"] == "verified"


def test_a_bad_profile_is_a_422_naming_the_field_and_writes_nothing(
    api: MarketApi, state: Dependencies, walker: Caller
) -> None:
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("radius over 25 km", {"radius_km": 25.5}, "radius_km"),
        ("radius zero", {"radius_km": 0}, "radius_km"),
        ("max_dogs 0", {"max_dogs": 0}, "max_dogs"),
        ("max_dogs 7", {"max_dogs": 7}, "max_dogs"),
        ("an unknown timezone", {"timezone": "Mars/Olympus"}, "timezone"),
        ("lat 91", {"lat": 91}, "lat"),
        ("lon 181", {"lon": 181}, "lon"),
        ("an unknown size", {"accepted_sizes": ["small", "huge"]}, "accepted_sizes"),
        ("no sizes", {"accepted_sizes": []}, "accepted_sizes"),
        ("a price under a dollar", {"price_cents_per_30min": 99}, "price_cents_per_30min"),
        ("an unknown field", {"nickname": "Speedy"}, "nickname"),
    ]
    for case, changes, field in cases:
        answer = api.put("/v1/walkers/me/profile", json_body=profile(**changes), token=walker.token)
        assert names_field(answer, field), (case, error_locs(answer))

    body = profile()
    body["service_area"]["city"] = "New York"
    assert names_field(api.put("/v1/walkers/me/profile", json_body=body, token=walker.token), "city")
    assert rows(state.database_url, "SELECT 1 FROM walker_profiles") == []


def test_an_owner_may_not_put_a_walker_profile(api: MarketApi, owner: Caller) -> None:
    assert_problem(api.put("/v1/walkers/me/profile", json_body=profile(), token=owner.token), 403, "forbidden")


# --- availability -------------------------------------------------------------------------------


def _windows(state: Dependencies, walker: Caller) -> list[tuple[int, int, int]]:
    found = rows(
        state.database_url,
        "SELECT weekday, lower(minutes) AS start, upper(minutes) AS end FROM availability_windows"
        " WHERE walker_id = %s ORDER BY weekday, lower(minutes)",
        walker.id,
    )
    return [(row["weekday"], row["start"], row["end"]) for row in found]


def test_put_availability_replaces_the_windows(api: MarketApi, state: Dependencies, walker: Caller) -> None:
    put_profile(api, walker)
    assert put_weekly(api, walker, [(0, "08:00", "12:00"), (2, "13:00", "17:00")]).status == 200

    answer = put_weekly(api, walker, [(4, "09:30", "11:00")])

    assert answer.status == 200
    assert answer.json() == {"weekly": [{"weekday": 4, "start": "09:30", "end": "11:00"}]}
    assert _windows(state, walker) == [(4, 570, 660)]


def test_touching_windows_on_one_day_are_fine(api: MarketApi, state: Dependencies, walker: Caller) -> None:
    put_profile(api, walker)

    answer = put_weekly(api, walker, [(1, "12:00", "14:00"), (1, "08:00", "12:00")])

    assert answer.status == 200
    assert [w["start"] for w in answer.json()["weekly"]] == ["08:00", "12:00"]
    assert _windows(state, walker) == [(1, 480, 720), (1, 720, 840)]


def test_a_window_may_end_at_24_00(api: MarketApi, state: Dependencies, walker: Caller) -> None:
    put_profile(api, walker)

    answer = put_weekly(api, walker, [(6, "20:00", "24:00")])

    assert answer.status == 200
    assert answer.json()["weekly"] == [{"weekday": 6, "start": "20:00", "end": "24:00"}]
    assert _windows(state, walker) == [(6, 1200, 1440)]


def test_bad_windows_are_a_422_and_keep_the_old_ones(api: MarketApi, state: Dependencies, walker: Caller) -> None:
    put_profile(api, walker)
    assert put_weekly(api, walker, [(3, "07:00", "09:00")]).status == 200
    cases: dict[str, list[tuple[int, str, str]]] = {
        "inverted": [(0, "12:00", "08:00")],
        "empty": [(0, "08:00", "08:00")],
        "overlapping": [(0, "08:00", "12:00"), (0, "11:59", "14:00")],
        "nested": [(0, "08:00", "12:00"), (0, "09:00", "10:00")],
        "25:00": [(0, "08:00", "25:00")],
        "24:01": [(0, "08:00", "24:01")],
        "a one-digit hour": [(0, "8:00", "12:00")],
        "weekday 7": [(7, "08:00", "12:00")],
        "weekday -1": [(-1, "08:00", "12:00")],
    }

    for case, weekly in cases.items():
        answer = put_weekly(api, walker, weekly)
        assert names_field(answer, "weekly"), (case, error_locs(answer))

    assert _windows(state, walker) == [(3, 420, 540)]


def test_the_same_hours_on_different_days_do_not_overlap(api: MarketApi, walker: Caller) -> None:
    put_profile(api, walker)

    assert put_weekly(api, walker, [(day, "08:00", "12:00") for day in range(7)]).status == 200


def test_availability_before_a_profile_exists_is_a_409(api: MarketApi, walker: Caller) -> None:
    assert_problem(put_weekly(api, walker, [(0, "08:00", "12:00")]), 409, "invalid_state")


def test_an_owner_may_not_put_availability(api: MarketApi, owner: Caller) -> None:
    assert_problem(put_weekly(api, owner, [(0, "08:00", "12:00")]), 403, "forbidden")


# --- time off -----------------------------------------------------------------------------------


def test_time_off_answers_201_with_its_id_and_range(api: MarketApi, state: Dependencies, walker: Caller) -> None:
    put_profile(api, walker)

    answer = api.post(
        "/v1/walkers/me/time-off",
        json_body={"start": "2026-12-24T00:00:00-05:00", "end": "2026-12-27T00:00:00-05:00"},
        token=walker.token,
    )

    assert answer.status == 201
    body = answer.json()
    assert set(body) == {"id", "start", "end"}
    stored = rows(
        state.database_url,
        "SELECT lower(period) AS start, upper(period) AS end FROM time_off WHERE id = %s",
        body["id"],
    )
    assert [row["start"].isoformat() for row in stored] == ["2026-12-24T05:00:00+00:00"]
    assert stored[0]["end"].isoformat() == "2026-12-27T05:00:00+00:00"


def test_bad_time_off_is_a_422(api: MarketApi, state: Dependencies, walker: Caller) -> None:
    put_profile(api, walker)
    cases = [
        ("end before start", "2026-12-27T00:00:00Z", "2026-12-24T00:00:00Z", "end"),
        ("empty", "2026-12-24T00:00:00Z", "2026-12-24T00:00:00Z", "end"),
        ("naive datetimes", "2026-12-24T00:00:00", "2026-12-27T00:00:00", "start"),
        ("a naive end", "2026-12-24T00:00:00Z", "2026-12-27T00:00:00", "end"),
        ("not a time", "Christmas", "2026-12-27T00:00:00Z", "start"),
    ]

    for case, start, end, field in cases:
        answer = api.post("/v1/walkers/me/time-off", json_body={"start": start, "end": end}, token=walker.token)
        assert names_field(answer, field), (case, error_locs(answer))

    assert rows(state.database_url, "SELECT 1 FROM time_off") == []


def test_time_off_before_a_profile_exists_is_a_409(api: MarketApi, walker: Caller) -> None:
    answer = api.post(
        "/v1/walkers/me/time-off",
        json_body={"start": "2026-12-24T00:00:00Z", "end": "2026-12-27T00:00:00Z"},
        token=walker.token,
    )

    assert_problem(answer, 409, "invalid_state")
