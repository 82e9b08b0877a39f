"""PUT/GET /v1/owners/me/home: the home round-trips; its access secrets are sealed at rest (the
stored bytes are not the plaintext, and a row copied to another owner does not open); bad input is
422 and changes nothing; only owners may call it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Dependencies
from tests.integration.care.conftest import (
    ACCESS_INSTRUCTIONS,
    EMERGENCY_NAME,
    EMERGENCY_PHONE,
    HOME,
    LOCKBOX_CODE,
    put_home,
)
from tests.integration.conftest import Api, assert_problem
from tests.integration.marketplace.conftest import Caller, error_locs, new_caller, rows, run_sql


def stored_row(state: Dependencies, owner: Caller) -> dict[str, Any]:
    [row] = rows(state.database_url, "SELECT * FROM homes WHERE owner_id = %s", owner.id)
    return row


def test_put_then_get_answers_the_same_home(api: Api, owner: Caller) -> None:
    assert put_home(api, owner) == HOME

    answer = api.get("/v1/owners/me/home", token=owner.token)

    assert answer.status == 200, answer.body
    assert answer.json() == HOME


def test_a_second_put_replaces_the_whole_home(api: Api, owner: Caller) -> None:
    put_home(api, owner)
    smaller = {"address": "12 Elm St", "emergency_contact": {"name": "Sam", "phone": "+442071234567"}}

    put_home(api, owner, smaller)

    assert api.get("/v1/owners/me/home", token=owner.token).json() == {
        **smaller, "access_instructions": None, "lockbox_code": None, "vet": None,
    }  # fmt: skip


def test_the_stored_bytes_are_not_the_plaintext(api: Api, owner: Caller, state: Dependencies) -> None:
    put_home(api, owner)

    row = stored_row(state, owner)

    stored = b"".join(bytes(value) if isinstance(value, bytes | memoryview) else str(value).encode()
                      for value in row.values())  # fmt: skip
    for secret in (LOCKBOX_CODE, ACCESS_INSTRUCTIONS, EMERGENCY_NAME, EMERGENCY_PHONE):
        assert secret.encode() not in stored, secret
        assert secret.encode("utf-16-le") not in stored, secret
    assert LOCKBOX_CODE.encode() not in bytes(row["sealed"])
    assert len(bytes(row["sealed"])) > len(LOCKBOX_CODE) + len(ACCESS_INSTRUCTIONS)  # the secrets are in there
    assert bytes(row["encrypted_data_key"]) and ":key/" in row["key_id"]
    assert row["address"] == HOME["address"] and row["vet_phone"] == HOME["vet"]["phone"]


def test_each_put_seals_under_a_new_data_key(api: Api, owner: Caller, state: Dependencies) -> None:
    put_home(api, owner)
    first = stored_row(state, owner)

    put_home(api, owner)
    second = stored_row(state, owner)

    assert bytes(first["encrypted_data_key"]) != bytes(second["encrypted_data_key"])
    assert bytes(first["sealed"]) != bytes(second["sealed"])


def test_a_home_does_not_open_under_another_owners_context(
    api: Api, owner: Caller, other_owner: Caller, state: Dependencies
) -> None:
    from dogwalk.adapters import envelope
    from dogwalk.care import homes
    from dogwalk.config import settings

    put_home(api, owner)
    row = stored_row(state, owner)
    sealed = envelope.Sealed(bytes(row["sealed"]), bytes(row["encrypted_data_key"]), row["key_id"])

    assert envelope.open_sealed(settings().home_access_key_id, sealed, homes.context_of(owner.id))
    with pytest.raises(envelope.Unsealable):
        envelope.open_sealed(settings().home_access_key_id, sealed, homes.context_of(other_owner.id))


def test_a_row_copied_to_another_owner_is_refused_without_its_secrets(
    api: Api, owner: Caller, other_owner: Caller, state: Dependencies
) -> None:
    put_home(api, owner)
    run_sql(
        state.database_url,
        "INSERT INTO homes (owner_id, address, sealed, encrypted_data_key, key_id)"
        " SELECT %s, address, sealed, encrypted_data_key, key_id FROM homes WHERE owner_id = %s",
        other_owner.id, owner.id,
    )  # fmt: skip

    answer = api.get("/v1/owners/me/home", token=other_owner.token)

    assert_problem(answer, 500, "internal_error")
    assert LOCKBOX_CODE.encode() not in answer.body and ACCESS_INSTRUCTIONS.encode() not in answer.body


def test_no_home_yet_is_not_found(api: Api, owner: Caller) -> None:
    assert_problem(api.get("/v1/owners/me/home", token=owner.token), 404, "not_found")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"emergency_contact": {"name": "Sam", "phone": "2025550177"}}, "phone"),  # not E.164
        ({"emergency_contact": {"name": "Sam", "phone": "+0123456789"}}, "phone"),
        ({"vet": {"name": "Dr Farrow", "phone": "+1 212 555 0100"}}, "phone"),
        ({"emergency_contact": {"name": "", "phone": "+12025550177"}}, "name"),
        ({"emergency_contact": None}, "emergency_contact"),
        ({"lockbox_code": "x" * 101}, "lockbox_code"),
        ({"access_instructions": "x" * 2001}, "access_instructions"),
        ({"address": ""}, "address"),
        ({"address": "x" * 501}, "address"),
        ({"alarm_code": "1234"}, "alarm_code"),  # unknown fields are refused
    ],
)
def test_bad_input_is_422_and_changes_nothing(
    api: Api, owner: Caller, state: Dependencies, change: dict[str, Any], field: str
) -> None:
    put_home(api, owner)
    before = stored_row(state, owner)

    answer = api.put("/v1/owners/me/home", json_body={**HOME, **change, "lockbox_code": "NEW-CODE-1"} | change,
                     token=owner.token)  # fmt: skip

    assert any(field in loc for loc in error_locs(answer)), answer.body
    assert b"NEW-CODE-1" not in answer.body
    assert stored_row(state, owner) == before
    assert api.get("/v1/owners/me/home", token=owner.token).json() == HOME


def test_a_missing_emergency_contact_is_422_and_writes_nothing(api: Api, owner: Caller, state: Dependencies) -> None:
    body = {name: value for name, value in HOME.items() if name != "emergency_contact"}

    assert "emergency_contact" in str(error_locs(api.put("/v1/owners/me/home", json_body=body, token=owner.token)))
    assert rows(state.database_url, "SELECT 1 FROM homes WHERE owner_id = %s", owner.id) == []


@pytest.mark.parametrize("role", ["walker", "admin"])
def test_only_owners_have_a_home(api: Api, state: Dependencies, role: str) -> None:
    caller = new_caller(state, role)

    assert_problem(api.put("/v1/owners/me/home", json_body=HOME, token=caller.token), 403, "forbidden")
    assert_problem(api.get("/v1/owners/me/home", token=caller.token), 403, "forbidden")
    assert_problem(api.get("/v1/owners/me/home/access-log", token=caller.token), 403, "forbidden")


def test_without_a_token_it_is_401(api: Api) -> None:
    assert api.get("/v1/owners/me/home").status == 401
