"""GET /v1/auth/me/export: everything held about the caller in the API's own shapes, paged under a
byte budget; the pages' lists concatenate to everything, each item once."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from tests.conftest import Dependencies
from tests.integration.auth.conftest import AuthApi, assert_problem
from tests.integration.bookings.conftest import EVERY_DAY, next_weekday_at, walk
from tests.integration.marketplace.conftest import Caller, create_dog, make_walker, new_caller


@pytest.fixture
def walker(api: AuthApi, state: Dependencies) -> Caller:
    return make_walker(api, state, new_caller(state, "admin"), weekly=EVERY_DAY)


def _export(api: AuthApi, caller: Caller, cursor: str | None = None) -> dict[str, Any]:
    answer = api.get("/v1/auth/me/export" + (f"?cursor={cursor}" if cursor else ""), token=caller.token)
    assert answer.status == 200, answer.body
    assert answer.headers["cache-control"] == "no-store"
    body: dict[str, Any] = answer.json()
    return body


def test_the_export_holds_the_callers_data_in_the_apis_own_shapes(
    api: AuthApi, walker: Caller, state: Dependencies
) -> None:
    owner = new_caller(state, "owner")
    dog = create_dog(api, owner)
    card = api.post("/v1/payments/methods", json_body={"gateway_token": "pm_card_visa"}, token=owner.token).json()
    request = {**walk(walker, [dog["id"]], next_weekday_at(10)), "payment_method_id": card["id"]}
    booking = api.post("/v1/bookings", json_body=request, token=owner.token).json()
    api.put("/v1/notifications/preferences", json_body={"channels": {"tip.received": ["email"]}}, token=owner.token)

    document = _export(api, owner)

    assert document["next_cursor"] is None
    assert document["profile"] == api.get("/v1/auth/me", token=owner.token).json()
    assert document["dogs"] == [{**dog, "deleted_at": None}]
    shown = api.get(f"/v1/bookings/{booking['id']}", token=owner.token).json()
    assert document["bookings"] == [{key: value for key, value in shown.items() if key != "refund_cents"}]
    payment = api.get(f"/v1/bookings/{booking['id']}/payment", token=owner.token).json()
    assert document["payments"] == [{"booking_id": booking["id"], **payment}]
    assert document["payment_methods"] == api.get("/v1/payments/methods", token=owner.token).json()["items"]
    assert document["preferences"]["channels"] == {"tip.received": ["email"]}
    assert document["walker_profile"] is None
    # the walker's export has the same booking, and their own profile
    walker_document = _export(api, walker)
    assert [item["id"] for item in walker_document["bookings"]] == [booking["id"]]
    assert walker_document["walker_profile"]["id"] == walker.id
    assert len(walker_document["availability"]) == 7


def test_pages_stay_under_the_budget_and_concatenate_to_everything(
    api: AuthApi, walker: Caller, state: Dependencies, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dogwalk.config import settings

    owner = new_caller(state, "owner")
    dog = create_dog(api, owner)["id"]
    start = datetime(2021, 1, 4, 9, tzinfo=UTC)
    booking_ids = [str(uuid.uuid4()) for _ in range(400)]  # four years of weekly walks
    price = json.dumps({"base_cents": 2000, "extra_dog_cents": 0, "surge_cents": 0, "service_fee_cents": 300,
                        "total_cents": 2300, "currency": "USD", "lines": []})  # fmt: skip
    weeks = [(booking_id, start + timedelta(weeks=week)) for week, booking_id in enumerate(booking_ids)]
    with psycopg.connect(state.database_url, autocommit=True) as conn, conn.transaction(), conn.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO bookings (id, owner_id, walker_id, start_ts, end_ts, status, price, payment_status,"
            " pickup_lat, pickup_lon, pickup_address, notes) VALUES (%s, %s, %s, %s, %s, 'completed', %s, 'captured',"
            " 40.75, -73.98, '1540 Broadway', 'Ring twice')",
            [(booking_id, owner.id, walker.id, at, at + timedelta(hours=1), price) for booking_id, at in weeks],
        )
        cursor.executemany(
            "INSERT INTO booking_dogs (booking_id, dog_id) VALUES (%s, %s)",
            [(booking_id, dog) for booking_id, _ in weeks],
        )
        cursor.executemany(
            "INSERT INTO walks (id, booking_id, started_at, ended_at, distance_m, points)"
            " VALUES (%s, %s, %s, %s, 3200, 720)",
            [(str(uuid.uuid4()), booking_id, at, at + timedelta(hours=1)) for booking_id, at in weeks],
        )
    budget = 40_000
    monkeypatch.setenv("DOGWALK_EXPORT_PAGE_BYTES", str(budget))
    settings.cache_clear()

    pages, cursor, sizes = [], None, []
    while True:
        answer = api.get("/v1/auth/me/export" + (f"?cursor={cursor}" if cursor else ""), token=owner.token)
        assert answer.status == 200, answer.body
        sizes.append(len(answer.body))
        pages.append(answer.json())
        cursor = pages[-1]["next_cursor"]
        if cursor is None:
            break
        assert len(pages) < 100, "the pages never ended"

    assert len(pages) > 5 and max(sizes) <= budget, sizes
    exported = [item["id"] for page in pages for item in page["bookings"]]
    assert sorted(exported) == sorted(booking_ids) and len(set(exported)) == len(exported)
    assert sorted(item["booking_id"] for page in pages for item in page["walks"]) == sorted(booking_ids)
    assert sum(len(page["payments"]) for page in pages) == 400
    assert [len(page["dogs"]) for page in pages].count(1) == 1
    assert all(page["profile"]["id"] == owner.id for page in pages)


def test_a_cursor_this_api_did_not_give_is_422(api: AuthApi, state: Dependencies) -> None:
    owner = new_caller(state, "owner")

    for cursor in ("garbage", "WzEsMiwzXQ", "Wzk5LG51bGwsbnVsbF0"):
        assert_problem(api.get(f"/v1/auth/me/export?cursor={cursor}", token=owner.token), 422, "validation_error")


def test_the_export_needs_a_token(api: AuthApi) -> None:
    assert_problem(api.get("/v1/auth/me/export"), 401, "unauthorized")
