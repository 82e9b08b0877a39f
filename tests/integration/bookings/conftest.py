"""Shared by the bookings tests: people, a verified walker available every day, a saved card,
and the body of a walk request."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import stripe

from tests.conftest import Dependencies
from tests.integration.conftest import Api
from tests.integration.marketplace.conftest import Caller, make_walker, new_caller, rows

NEW_YORK = ZoneInfo("America/New_York")
EVERY_DAY = [(day, "07:00", "20:00") for day in range(7)]


def next_weekday_at(hour: int, days_ahead: int = 2) -> datetime:
    """`hour` o'clock (New York) on the first weekday (no weekend surge) at least `days_ahead` days
    from now. By default 2 to 4 days ahead: more than 24 h (no late-booking surge) and within the 5
    days in which a hold is placed at request time, so a booking made for it is `authorized`."""
    day = (datetime.now(NEW_YORK) + timedelta(days=days_ahead)).date()
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, tzinfo=NEW_YORK)


@pytest.fixture
def owner(state: Dependencies) -> Caller:
    return new_caller(state, "owner")


@pytest.fixture
def admin(state: Dependencies) -> Caller:
    return new_caller(state, "admin")


@pytest.fixture
def walker(api: Api, state: Dependencies, admin: Caller) -> Caller:
    return make_walker(api, state, admin, weekly=EVERY_DAY)


@pytest.fixture
def card(api: Api, owner: Caller) -> str:
    answer = api.post("/v1/payments/methods", json_body={"gateway_token": "pm_card_visa"}, token=owner.token)
    assert answer.status == 201, answer.body
    return str(answer.json()["id"])


def walk(walker: Caller, dogs: list[str], start: datetime, **changes: Any) -> dict[str, Any]:
    body = {
        "walker_id": walker.id,
        "dog_ids": dogs,
        "start": start.isoformat(),
        "duration_min": 60,
        "pickup": {"lat": 40.7560, "lon": -73.9860, "address": "1540 Broadway"},
    }
    body.update(changes)
    return body


def gateway() -> stripe.StripeClient:
    from dogwalk.payments import gateway

    return gateway._client()


def database_url() -> str:
    return os.environ["DATABASE_URL"]


def intent_of(booking_id: str) -> str:
    found = rows(database_url(), "SELECT payment_intent_id FROM bookings WHERE id = %s", booking_id)
    return str(found[0]["payment_intent_id"])
