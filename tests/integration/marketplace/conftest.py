"""The marketplace through the gateway: a client with every method that checks, for each 4xx it
received, the problem+json contract; callers with their tokens; small builders for dogs,
walkers (profile, availability, verification by an admin) and the booking rows search reads."""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from tests.conftest import Dependencies, insert_user
from tests.integration.conftest import Answer, Api, assert_problem, token_for

EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius: our own measure, not the database's
ALL_SIZES = ["small", "medium", "large", "giant"]


MarketApi = Api  # the shared client: answers recorded, error contract checked


def error_locs(answer: Answer) -> list[list[str]]:
    """The `loc` of every field problem of a 422, as strings."""
    body = assert_problem(answer, 422, "validation_error")
    return [[str(part) for part in error["loc"]] for error in body["errors"]]


def names_field(answer: Answer, field: str) -> bool:
    return any(field in loc for loc in error_locs(answer))


@dataclass(frozen=True)
class Caller:
    id: str
    role: str
    token: str


def new_caller(state: Dependencies, role: str) -> Caller:
    user = insert_user(state.database_url, role)
    return Caller(user.id, role, token_for(user))


@pytest.fixture
def owner(state: Dependencies) -> Caller:
    return new_caller(state, "owner")


@pytest.fixture
def other_owner(state: Dependencies) -> Caller:
    return new_caller(state, "owner")


@pytest.fixture
def walker(state: Dependencies) -> Caller:
    return new_caller(state, "walker")


@pytest.fixture
def admin(state: Dependencies) -> Caller:
    return new_caller(state, "admin")


def rows(database_url: str, sql: str, *params: Any) -> list[dict[str, Any]]:
    with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as conn:
        return conn.execute(sql, params).fetchall()  # type: ignore[arg-type]


def run_sql(database_url: str, sql: str, *params: Any) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(sql, params)  # type: ignore[arg-type]


# --- dogs ---------------------------------------------------------------------------------------

DOG = {
    "name": "Biscuit",
    "breed": "Beagle",
    "size": "medium",
    "birth_date": "2021-04-02",
    "notes": "Pulls towards squirrels.",
    "vaccinated": True,
}


def create_dog(api: MarketApi, owner: Caller, **fields: Any) -> dict[str, Any]:
    answer = api.post("/v1/dogs", json_body={**DOG, **fields}, token=owner.token)
    assert answer.status == 201, answer.body
    return answer.json()


def insert_booking(
    database_url: str,
    *,
    owner_id: str,
    walker_id: str,
    start: datetime,
    end: datetime,
    status: str,
    dog_ids: Sequence[str] = (),
) -> str:
    """A booking row written directly: the bookings endpoints do not exist yet."""
    booking_id = str(uuid.uuid4())
    with psycopg.connect(database_url, autocommit=True) as conn, conn.transaction():
        conn.execute(
            "INSERT INTO bookings (id, owner_id, walker_id, start_ts, end_ts, status) VALUES (%s, %s, %s, %s, %s, %s)",
            (booking_id, owner_id, walker_id, start, end, status),
        )
        for dog_id in dog_ids:
            conn.execute("INSERT INTO booking_dogs (booking_id, dog_id) VALUES (%s, %s)", (booking_id, dog_id))
    return booking_id


# --- walkers ------------------------------------------------------------------------------------

NEW_YORK = (40.7580, -73.9855)  # Times Square

PROFILE: dict[str, Any] = {
    "bio": "Ten years of walking big dogs in Midtown.",
    "price_cents_per_30min": 2000,
    "service_area": {"lat": NEW_YORK[0], "lon": NEW_YORK[1], "radius_km": 5.0},
    "max_dogs": 3,
    "accepted_sizes": ALL_SIZES,
    "timezone": "America/New_York",
}


def profile(**changes: Any) -> dict[str, Any]:
    """PROFILE with `changes`; `lat`, `lon` and `radius_km` go into the service area."""
    body = {**PROFILE, "service_area": dict(PROFILE["service_area"])}
    for name in ("lat", "lon", "radius_km"):
        if name in changes:
            body["service_area"][name] = changes.pop(name)
    body.update(changes)
    return body


def put_profile(api: MarketApi, walker: Caller, **changes: Any) -> dict[str, Any]:
    answer = api.put("/v1/walkers/me/profile", json_body=profile(**changes), token=walker.token)
    assert answer.status == 200, answer.body
    return answer.json()


def put_weekly(api: MarketApi, walker: Caller, weekly: list[tuple[int, str, str]]) -> Answer:
    body = {"weekly": [{"weekday": day, "start": start, "end": end} for day, start, end in weekly]}
    return api.put("/v1/walkers/me/availability", json_body=body, token=walker.token)


DOCUMENTS = [
    {"kind": "id_document", "reference": "s3://uploads/id-123.jpg"},
    {"kind": "background_check", "reference": "checkr:report-456"},
]


def submit(api: MarketApi, walker: Caller) -> Answer:
    return api.post("/v1/walkers/me/verification", json_body={"documents": DOCUMENTS}, token=walker.token)


def decide(api: MarketApi, admin: Caller, walker_id: str, decision: str, reason: str | None = None) -> Answer:
    body: dict[str, Any] = {"decision": decision}
    if reason is not None:
        body["reason"] = reason
    return api.post(f"/v1/admin/verifications/{walker_id}", json_body=body, token=admin.token)


def verify(api: MarketApi, walker: Caller, admin: Caller) -> None:
    assert submit(api, walker).status == 202
    assert decide(api, admin, walker.id, "approve").status == 200


def make_walker(
    api: MarketApi,
    state: Dependencies,
    admin: Caller,
    *,
    weekly: list[tuple[int, str, str]],
    verified: bool = True,
    **changes: Any,
) -> Caller:
    """A walker with a profile (PROFILE with `changes`), these weekly windows, and verified by `admin`."""
    walker = new_caller(state, "walker")
    put_profile(api, walker, **changes)
    assert put_weekly(api, walker, weekly).status == 200
    if verified:
        verify(api, walker, admin)
    return walker


# --- geography ----------------------------------------------------------------------------------


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def point_at(origin: tuple[float, float], km: float, bearing_deg: float) -> tuple[float, float]:
    """The point `km` along the great circle from `origin` at `bearing_deg` (0 = north)."""
    lat1, lon1 = map(math.radians, origin)
    angle, bearing = km / EARTH_RADIUS_KM, math.radians(bearing_deg)
    lat2 = math.asin(math.sin(lat1) * math.cos(angle) + math.cos(lat1) * math.sin(angle) * math.cos(bearing))
    lon2 = lon1 + math.atan2(
        math.sin(bearing) * math.sin(angle) * math.cos(lat1), math.cos(angle) - math.sin(lat1) * math.sin(lat2)
    )
    return math.degrees(lat2), math.degrees(lon2)
