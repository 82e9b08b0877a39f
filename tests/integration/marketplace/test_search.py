"""Search: around a point in New York, only verified, not suspended walkers whose area covers the
point, who take these dogs (sizes and count), are available for the whole walk in their local
time (across DST), are not off and have no overlapping live booking; each with its great-circle
distance and the quote of the shared pricing; sorted by distance, price or rating, a page at a time."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from dogwalk.edge.schemas import quote_out
from dogwalk.marketplace import pricing
from tests.conftest import Dependencies
from tests.integration.marketplace.conftest import (
    NEW_YORK,
    Caller,
    MarketApi,
    assert_problem,
    create_dog,
    error_locs,
    haversine_km,
    insert_booking,
    make_walker,
    new_caller,
    point_at,
    run_sql,
)

# Wednesday 9 December 2026, 10:00 in New York (EST, UTC-5), for an hour
WALK_START = datetime(2026, 12, 9, 15, 0, tzinfo=UTC)
WALK_END = WALK_START + timedelta(minutes=60)
WEDNESDAY_MORNING = [(2, "08:00", "12:00")]


def search(api: MarketApi, owner: Caller, dogs: list[str], **params: Any) -> Any:
    """GET /v1/walkers/search for the walk of WALK_START with `dogs`; `params` change the query
    (None leaves a parameter out)."""
    query = {
        "lat": NEW_YORK[0],
        "lon": NEW_YORK[1],
        "start": WALK_START.isoformat().replace("+00:00", "Z"),
        "duration_min": 60,
        "dog_ids": ",".join(dogs),
        **params,
    }
    return api.get(
        "/v1/walkers/search?" + urlencode({k: v for k, v in query.items() if v is not None}), token=owner.token
    )


def found(api: MarketApi, owner: Caller, dogs: list[str], **params: Any) -> list[dict[str, Any]]:
    answer = search(api, owner, dogs, **params)
    assert answer.status == 200, answer.body
    return answer.json()["items"]


def _giant_and_small(api: MarketApi, owner: Caller) -> list[str]:
    return [
        create_dog(api, owner, name="Moose", size="giant")["id"],
        create_dog(api, owner, name="Pip", size="small")["id"],
    ]


def _at(km: float, bearing: float) -> dict[str, float]:
    lat, lon = point_at(NEW_YORK, km, bearing)
    return {"lat": lat, "lon": lon}


def test_search_finds_exactly_the_walkers_who_can_take_the_walk(
    api: MarketApi, state: Dependencies, owner: Caller, admin: Caller
) -> None:
    dogs = _giant_and_small(api, owner)
    walkers: dict[str, Caller] = {}

    def walker(label: str, weekly: list[tuple[int, str, str]] = WEDNESDAY_MORNING, **changes: Any) -> Caller:
        changes = {**_at(1.0, 90), **changes}
        walkers[label] = make_walker(api, state, admin, weekly=weekly, **changes)
        return walkers[label]

    def booked(label: str, status: str, start: datetime, end: datetime) -> None:
        insert_booking(
            state.database_url, owner_id=new_caller(state, "owner").id, walker_id=walker(label).id,
            start=start, end=end, status=status,
        )  # fmt: skip

    walker("matches")
    walker("just inside the radius", radius_km=3.0, **_at(2.9, 0))
    walker("just outside the radius", radius_km=3.0, **_at(3.1, 180))
    time_off = walker("on time off")
    answer = api.post(
        "/v1/walkers/me/time-off",
        json_body={"start": "2026-12-09T00:00:00-05:00", "end": "2026-12-10T00:00:00-05:00"},
        token=time_off.token,
    )
    assert answer.status == 201
    late_off = walker("off for the last half hour of the walk")
    answer = api.post(
        "/v1/walkers/me/time-off",
        json_body={"start": "2026-12-09T10:30:00-05:00", "end": "2026-12-09T18:00:00-05:00"},
        token=late_off.token,
    )
    assert answer.status == 201
    walker("unverified", verified=False)
    walker("window ends a minute before the walk", weekly=[(2, "08:00", "10:59")])
    walker("available on Tuesdays only", weekly=[(1, "08:00", "12:00")])
    walker("takes no giant dogs", accepted_sizes=["small", "medium", "large"])
    walker("takes one dog at a time", max_dogs=1)
    suspended = walker("suspended")
    assert api.post(f"/v1/admin/users/{suspended.id}/suspend", token=admin.token).status == 204
    booked("has an overlapping requested booking", "requested", WALK_START + timedelta(minutes=30), WALK_END)
    booked("has an overlapping accepted booking", "accepted", WALK_START - timedelta(minutes=30), WALK_END)
    booked(
        "has an in-progress booking",
        "in_progress",
        WALK_START - timedelta(minutes=59),
        WALK_START + timedelta(minutes=1),
    )
    booked("has only a cancelled overlapping booking", "cancelled", WALK_START, WALK_END)
    booked("has an accepted booking ending as the walk starts", "accepted", WALK_START - timedelta(hours=1), WALK_START)

    items = found(api, owner, dogs)

    label_of = {caller.id: label for label, caller in walkers.items()}
    assert sorted(label_of.get(item["walker"]["id"], "?") for item in items) == sorted(
        [
            "matches",
            "just inside the radius",
            "has only a cancelled overlapping booking",
            "has an accepted booking ending as the walk starts",
        ]
    )


def test_each_match_carries_its_great_circle_distance_its_public_profile_and_the_shared_quote(
    api: MarketApi, state: Dependencies, owner: Caller, admin: Caller
) -> None:
    dogs = _giant_and_small(api, owner)
    saturday = datetime(2026, 12, 12, 15, 0, tzinfo=UTC)  # 10:00 in New York: the weekend surge applies
    near = make_walker(api, state, admin, weekly=[(5, "08:00", "12:00")], price_cents_per_30min=2000, **_at(1.2, 60))
    far = make_walker(
        api, state, admin, weekly=[(5, "08:00", "12:00")], price_cents_per_30min=2750, radius_km=25.0, **_at(17.5, 300)
    )

    items = found(api, owner, dogs, start=saturday.isoformat(), duration_min=90)

    assert [item["walker"]["id"] for item in items] == [near.id, far.id]
    for item, walker, price in ((items[0], near, 2000), (items[1], far, 2750)):
        area = item["walker"]["service_area"]
        expected_km = haversine_km(NEW_YORK, (area["lat"], area["lon"]))
        assert abs(item["distance_km"] - expected_km) <= 0.005 * expected_km, (item["distance_km"], expected_km)
        assert item["walker"] == api.get(f"/v1/walkers/{walker.id}", token=owner.token).json()
        expected = pricing.quote(
            price_cents_per_30min=price,
            duration_min=90,
            dog_count=2,
            start=saturday,
            booked_at=datetime.now(UTC),
            timezone="America/New_York",
        )
        assert item["quote"] == quote_out(expected).model_dump(mode="json")
        assert item["quote"]["surge_cents"] > 0  # weekend
    assert abs(items[1]["distance_km"] - 17.5) < 0.05


def test_availability_is_local_time_on_both_sides_of_the_dst_change(
    api: MarketApi, state: Dependencies, owner: Caller, admin: Caller
) -> None:
    dogs = [create_dog(api, owner, size="small")["id"]]
    walker = make_walker(api, state, admin, weekly=[(6, "08:00", "12:00")], **_at(1.0, 0))

    def finds(start: str) -> bool:
        return [item["walker"]["id"] for item in found(api, owner, dogs, start=start)] == [walker.id]

    # Sunday 25 October 2026 is EDT (UTC-4); Sunday 8 November 2026 is EST (UTC-5)
    assert finds("2026-10-25T12:00:00Z"), "08:00 EDT"
    assert finds("2026-11-08T13:00:00Z"), "08:00 EST"
    assert not finds("2026-10-25T11:30:00Z"), "07:30 EDT"
    assert not finds("2026-11-08T12:30:00Z"), "07:30 EST"
    assert not finds("2026-11-08T12:00:00Z"), "07:00 EST, the UTC time of 08:00 a fortnight before"
    assert finds("2026-11-08T16:00:00Z"), "11:00 EST, ending at 12:00"
    assert not finds("2026-10-25T16:00:00Z"), "12:00 EDT, after the window"
    assert finds("2026-11-08T08:00:00-05:00"), "the same instant written with its offset"


def test_a_walk_starting_or_ending_between_minutes_must_fit_the_window_too(
    api: MarketApi, state: Dependencies, owner: Caller, admin: Caller
) -> None:
    dogs = [create_dog(api, owner, size="small")["id"]]
    make_walker(api, state, admin, weekly=WEDNESDAY_MORNING, **_at(1.0, 0))

    assert found(api, owner, dogs, start="2026-12-09T08:00:00-05:00") != []
    assert found(api, owner, dogs, start="2026-12-09T07:59:40-05:00") == [], "starts 20 s before the window"
    assert found(api, owner, dogs, start="2026-12-09T11:00:20-05:00") == [], "ends 20 s after the window"


def _rate(state: Dependencies, walker: Caller, total: int, count: int) -> None:
    run_sql(
        state.database_url,
        "UPDATE walker_profiles SET rating_sum = %s, rating_count = %s WHERE user_id = %s",
        total,
        count,
        walker.id,
    )


def test_sorting_by_distance_price_and_rating_and_paging_one_at_a_time(
    api: MarketApi, state: Dependencies, owner: Caller, admin: Caller
) -> None:
    dogs = [create_dog(api, owner, size="small")["id"]]
    # name: (km away, price, rating sum, rating count)
    shape = {"A": (1.0, 3000, 8, 2), "B": (2.0, 1500, 10, 2), "C": (3.0, 2500, 0, 0), "D": (4.0, 1500, 9, 2)}
    shape["E"] = (0.5, 2500, 12, 3)
    ids = {}
    for name, (km, price, total, count) in shape.items():
        walker = make_walker(api, state, admin, weekly=WEDNESDAY_MORNING, price_cents_per_30min=price, **_at(km, 45))
        _rate(state, walker, total, count)
        ids[name] = walker.id
    name_of = {walker_id: name for name, walker_id in ids.items()}

    def by(key: Any) -> list[str]:
        return sorted(shape, key=lambda name: (key(shape[name]), ids[name]))

    expected = {
        "distance": by(lambda s: s[0]),
        "price": by(lambda s: s[1]),
        "rating": by(lambda s: -(s[2] / s[3]) if s[3] else 0),
    }
    assert expected["distance"] == ["E", "A", "B", "C", "D"]
    assert expected["rating"][0] == "B" and expected["rating"][-1] == "C"

    assert [name_of[item["walker"]["id"]] for item in found(api, owner, dogs)] == expected["distance"]
    for sort, order in expected.items():
        whole = [name_of[item["walker"]["id"]] for item in found(api, owner, dogs, sort=sort)]
        assert whole == order, sort

        paged, cursor = [], None
        for _ in range(len(shape) + 1):
            answer = search(api, owner, dogs, sort=sort, limit=1, cursor=cursor)
            assert answer.status == 200, answer.body
            paged += [name_of[item["walker"]["id"]] for item in answer.json()["items"]]
            cursor = answer.json()["next_cursor"]
            if cursor is None:
                break
        assert cursor is None, f"{sort}: the pages do not end"
        assert paged == order, sort


def test_bad_searches_are_422s_naming_the_parameter(
    api: MarketApi, state: Dependencies, owner: Caller, other_owner: Caller
) -> None:
    mine = [create_dog(api, owner, name=f"Dog {n}", size="small")["id"] for n in range(7)]
    theirs = create_dog(api, other_owner)["id"]
    gone = create_dog(api, owner)["id"]
    assert api.delete(f"/v1/dogs/{gone}", token=owner.token).status == 204

    cases: list[tuple[str, dict[str, Any], str]] = [
        ("someone else's dog", {"dog_ids": f"{mine[0]},{theirs}"}, "dog_ids"),
        ("a deleted dog", {"dog_ids": gone}, "dog_ids"),
        ("not a dog id", {"dog_ids": "rex"}, "dog_ids"),
        ("seven dogs", {"dog_ids": ",".join(mine)}, "dog_ids"),
        ("the same dog twice", {"dog_ids": f"{mine[0]},{mine[0]}"}, "dog_ids"),
        ("a 50-minute walk", {"duration_min": 50}, "duration_min"),
        ("no start", {"start": None}, "start"),
        ("a start without offset", {"start": "2026-12-09T10:00:00"}, "start"),
        ("an unknown sort", {"sort": "cheapest"}, "sort"),
        ("latitude 91", {"lat": 91}, "lat"),
        (
            "a cursor we never gave",
            {"cursor": base64.urlsafe_b64encode(json.dumps(["x", "y"]).encode()).decode()},
            "cursor",
        ),
    ]
    for case, params, field in cases:
        answer = search(api, owner, [mine[0]], **params)
        assert answer.status == 422, (case, answer.body)
        assert any(field in loc for loc in error_locs(answer)), (case, error_locs(answer))


def test_only_owners_may_search(api: MarketApi, state: Dependencies, walker: Caller, admin: Caller) -> None:
    for caller in (walker, admin):
        answer = search(api, caller, ["00000000-0000-0000-0000-000000000000"])
        assert_problem(answer, 403, "forbidden")
