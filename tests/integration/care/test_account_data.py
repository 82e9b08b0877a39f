"""The account's own data and home access: the export carries the owner's home, its secrets opened
for the owner, and the dogs' care; deleting the account erases the home, the owner's access log
and the dogs' care notes (a walker's reads of other homes stay in those owners' logs)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.conftest import Dependencies
from tests.integration.auth.conftest import PASSWORD, register
from tests.integration.care.conftest import DOG_CARE, HOME, booking, put_home
from tests.integration.conftest import Api
from tests.integration.marketplace.conftest import Caller, create_dog, rows, run_sql


def registered_owner(api: Api) -> Caller:
    pair = register(api, "olive@example.com", role="owner", name="Olive")
    return Caller(pair["user"]["id"], "owner", pair["access_token"])


def test_the_export_carries_the_home_opened_and_the_dogs_care(api: Api, owner: Caller, dog: dict[str, Any]) -> None:
    put_home(api, owner)

    answer = api.get("/v1/auth/me/export", token=owner.token)

    assert answer.status == 200, answer.body
    assert answer.json()["home"] == HOME
    assert [{name: item[name] for name in DOG_CARE} for item in answer.json()["dogs"]] == [DOG_CARE]


def test_the_export_of_an_owner_without_a_home_says_so(api: Api, owner: Caller) -> None:
    answer = api.get("/v1/auth/me/export", token=owner.token)

    assert answer.status == 200, answer.body
    assert answer.json()["home"] is None


def test_deleting_the_account_erases_the_home_the_log_and_the_dogs_care(
    api: Api, state: Dependencies, walker: Caller, other_owner: Caller
) -> None:
    owner = registered_owner(api)
    dog = create_dog(api, owner, **DOG_CARE)
    put_home(api, owner)
    put_home(api, other_owner)
    booking_id, _, _ = booking(state, owner, walker, dog)
    assert api.get(f"/v1/bookings/{booking_id}/care", token=walker.token).status == 200
    other_dog = create_dog(api, other_owner, **DOG_CARE)
    theirs, _, _ = booking(state, other_owner, walker, other_dog, starts_in=timedelta(hours=5))
    assert api.get(f"/v1/bookings/{theirs}/care", token=walker.token).status == 200
    # a finished walk does not hold the deletion back
    run_sql(state.database_url, "UPDATE bookings SET status = 'completed' WHERE id = %s", booking_id)

    answer = api.delete("/v1/auth/me", json_body={"password": PASSWORD}, token=owner.token)

    assert answer.status == 202, answer.body
    assert rows(state.database_url, "SELECT 1 FROM homes WHERE owner_id = %s", owner.id) == []
    assert rows(state.database_url, "SELECT 1 FROM home_access_reads WHERE owner_id = %s", owner.id) == []
    assert rows(
        state.database_url, "SELECT medical_notes, feeding, vaccinations FROM dogs WHERE owner_id = %s", owner.id
    ) == [{"medical_notes": None, "feeding": None, "vaccinations": []}]
    # the other owner's home and log are theirs
    assert api.get("/v1/owners/me/home", token=other_owner.token).json() == HOME
    assert len(api.get("/v1/owners/me/home/access-log", token=other_owner.token).json()["items"]) == 1
