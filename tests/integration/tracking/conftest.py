"""Shared by the tracking tests: a walk under way (requested, accepted, started through HTTP),
with its walker and owner; the bookings suite's people and card."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.integration.bookings.conftest import admin, card, owner, walker  # noqa: F401 - fixtures
from tests.integration.bookings.test_walk_and_capture import accepted_walk
from tests.integration.conftest import Api
from tests.integration.marketplace.conftest import Caller


@dataclass(frozen=True)
class Walk:
    id: str
    booking_id: str
    owner: Caller
    walker: Caller
    mqtt_topic: str


def start_walk(api: Api, booked_by: Caller, walked_by: Caller, paid_with: str) -> Walk:
    booking = accepted_walk(api, booked_by, walked_by, paid_with)
    answer = api.post(f"/v1/bookings/{booking['id']}/start", token=walked_by.token)
    assert answer.status == 200, answer.body
    started = answer.json()["walk"]
    return Walk(started["id"], booking["id"], booked_by, walked_by, started["mqtt_topic"])


@pytest.fixture
def walk(api: Api, owner: Caller, walker: Caller, card: str) -> Walk:  # noqa: F811 - the fixtures above
    return start_walk(api, owner, walker, card)
