"""Shared by the care tests: an owner with a home and a dog, walkers with profiles (a booking names
a walker profile), bookings written as rows in the state and at the time a test needs, and the
home as the owner describes it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.conftest import Dependencies
from tests.integration.conftest import Api
from tests.integration.marketplace.conftest import Caller, create_dog, insert_booking, new_caller, put_profile

# distinctive values, searched for in the stored bytes and in the logs
LOCKBOX_CODE = "LOCKBOX-7391-QZ"
ACCESS_INSTRUCTIONS = "Side gate latch sticks; alarm panel left of the door, disarm with 4-4-0-2-ZEBRA."
EMERGENCY_NAME = "Marguerite Okonkwo-Fairweather"
EMERGENCY_PHONE = "+12025550177"
HOME: dict[str, Any] = {
    "address": "1540 Broadway, apt 9Q, New York",
    "access_instructions": ACCESS_INSTRUCTIONS,
    "lockbox_code": LOCKBOX_CODE,
    "emergency_contact": {"name": EMERGENCY_NAME, "phone": EMERGENCY_PHONE},
    "vet": {"name": "Dr Farrow, Midtown Vets", "phone": "+12125550100"},
}
DOG_CARE: dict[str, Any] = {
    "medical_notes": "Half a 10 mg tablet of apoquel with breakfast.",
    "feeding": "One cup of kibble at 7 am; no chicken.",
    "vaccinations": [{"kind": "rabies", "expires_on": "2027-03-01"}, {"kind": "DHPP", "expires_on": "2026-12-15"}],
}


@pytest.fixture(autouse=True)
def _home_access_key(home_access_key: str) -> str:
    return home_access_key


@pytest.fixture
def owner(state: Dependencies) -> Caller:
    return new_caller(state, "owner")


@pytest.fixture
def other_owner(state: Dependencies) -> Caller:
    return new_caller(state, "owner")


def profiled_walker(api: Api, state: Dependencies) -> Caller:
    walker = new_caller(state, "walker")
    put_profile(api, walker)
    return walker


@pytest.fixture
def walker(api: Api, state: Dependencies) -> Caller:
    return profiled_walker(api, state)


@pytest.fixture
def stranger(api: Api, state: Dependencies) -> Caller:
    return profiled_walker(api, state)


@pytest.fixture
def dog(api: Api, owner: Caller) -> dict[str, Any]:
    return create_dog(api, owner, **DOG_CARE)


def put_home(api: Api, owner: Caller, home: dict[str, Any] | None = None) -> dict[str, Any]:
    answer = api.put("/v1/owners/me/home", json_body=home or HOME, token=owner.token)
    assert answer.status == 200, answer.body
    return dict(answer.json())


def booking(
    state: Dependencies,
    owner: Caller,
    walker: Caller,
    dog: dict[str, Any],
    *,
    status: str = "accepted",
    starts_in: timedelta = timedelta(hours=2),
    duration: timedelta = timedelta(hours=1),
) -> tuple[str, datetime, datetime]:
    """A booking row of `status` starting `starts_in` from now; (id, start, end)."""
    start = datetime.now(UTC).replace(microsecond=0) + starts_in
    end = start + duration
    booking_id = insert_booking(
        state.database_url, owner_id=owner.id, walker_id=walker.id, start=start, end=end, status=status,
        dog_ids=[dog["id"]],
    )  # fmt: skip
    return booking_id, start, end
