"""Dogs carry their care: `medical_notes` (≤ 2000), `feeding` (≤ 1000) and `vaccinations`
(`[{kind, expires_on}]`, ≤ 20), on create, update, get and list; bad care is 422 and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.care.conftest import DOG_CARE
from tests.integration.conftest import Api
from tests.integration.marketplace.conftest import DOG, Caller, error_locs


def test_a_dog_keeps_its_care(api: Api, owner: Caller, dog: dict[str, Any]) -> None:
    assert {name: dog[name] for name in DOG_CARE} == DOG_CARE

    got = api.get(f"/v1/dogs/{dog['id']}", token=owner.token).json()
    listed = api.get("/v1/dogs", token=owner.token).json()["items"]

    assert {name: got[name] for name in DOG_CARE} == DOG_CARE
    assert [{name: item[name] for name in DOG_CARE} for item in listed] == [DOG_CARE]


def test_a_dog_without_care_has_none(api: Api, owner: Caller) -> None:
    answer = api.post("/v1/dogs", json_body=DOG, token=owner.token)

    assert answer.status == 201, answer.body
    assert {name: answer.json()[name] for name in DOG_CARE} == {"medical_notes": None, "feeding": None,
                                                                "vaccinations": []}  # fmt: skip


def test_patch_changes_only_the_care_sent(api: Api, owner: Caller, dog: dict[str, Any]) -> None:
    answer = api.patch(f"/v1/dogs/{dog['id']}", json_body={"vaccinations": [], "feeding": "Raw diet"},
                       token=owner.token)  # fmt: skip

    assert answer.status == 200, answer.body
    assert answer.json()["vaccinations"] == [] and answer.json()["feeding"] == "Raw diet"
    assert answer.json()["medical_notes"] == DOG_CARE["medical_notes"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"medical_notes": "x" * 2001}, "medical_notes"),
        ({"feeding": "x" * 1001}, "feeding"),
        ({"vaccinations": [{"kind": "rabies", "expires_on": "2027-01-01"}] * 21}, "vaccinations"),
        ({"vaccinations": [{"kind": "rabies", "expires_on": "next year"}]}, "expires_on"),
        ({"vaccinations": [{"kind": "rabies", "expires_on": 20270101}]}, "expires_on"),
        ({"vaccinations": [{"kind": "", "expires_on": "2027-01-01"}]}, "kind"),
        ({"vaccinations": [{"kind": "rabies", "expires_on": "2027-01-01", "lot": "A1"}]}, "lot"),
        ({"vaccinations": None}, "body"),
    ],
)
def test_bad_care_is_422_and_changes_nothing(
    api: Api, owner: Caller, dog: dict[str, Any], change: dict[str, Any], field: str
) -> None:
    patched = api.patch(f"/v1/dogs/{dog['id']}", json_body=change, token=owner.token)
    created = api.post("/v1/dogs", json_body={**DOG, **change}, token=owner.token)

    assert any(field in loc for loc in error_locs(patched)), patched.body
    if change != {"vaccinations": None}:  # null on create is refused too, for its own reason
        assert any(field in loc for loc in error_locs(created)), created.body
    else:
        assert created.status == 422
    assert api.get(f"/v1/dogs/{dog['id']}", token=owner.token).json() == dog
    assert len(api.get("/v1/dogs", token=owner.token).json()["items"]) == 1
