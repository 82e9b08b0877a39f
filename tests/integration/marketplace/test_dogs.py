"""Dogs: an owner adds, lists (a page at a time), reads, changes and removes their own dogs;
another owner's dog is not found, a walker may not call at all, and a dog with an accepted walk
coming cannot be removed."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

from tests.conftest import Dependencies
from tests.integration.marketplace.conftest import (
    DOG,
    Caller,
    MarketApi,
    assert_problem,
    create_dog,
    error_locs,
    insert_booking,
    names_field,
    new_caller,
    put_profile,
    rows,
)


def test_creating_a_dog_answers_201_with_every_field_and_the_caller_as_owner(api: MarketApi, owner: Caller) -> None:
    answer = api.post("/v1/dogs", json_body=DOG, token=owner.token)

    assert answer.status == 201
    dog = answer.json()
    assert {key: dog[key] for key in DOG} == DOG
    assert dog["owner_id"] == owner.id
    assert dog["id"]
    assert dog["created_at"] and dog["updated_at"]


def test_optional_fields_may_be_left_out(api: MarketApi, owner: Caller) -> None:
    answer = api.post("/v1/dogs", json_body={"name": "Rex", "size": "giant", "vaccinated": False}, token=owner.token)

    assert answer.status == 201
    assert answer.json()["breed"] is None
    assert answer.json()["birth_date"] is None


def test_an_unknown_size_is_a_422_naming_size_and_writes_nothing(
    api: MarketApi, state: Dependencies, owner: Caller
) -> None:
    answer = api.post("/v1/dogs", json_body={**DOG, "size": "enormous"}, token=owner.token)

    assert names_field(answer, "size")
    assert rows(state.database_url, "SELECT 1 FROM dogs") == []


def test_an_unknown_field_on_create_is_a_422(api: MarketApi, owner: Caller) -> None:
    answer = api.post("/v1/dogs", json_body={**DOG, "colour": "tan"}, token=owner.token)

    assert names_field(answer, "colour")


def test_listing_shows_only_my_dogs(api: MarketApi, owner: Caller, other_owner: Caller) -> None:
    mine = create_dog(api, owner, name="Mine")
    create_dog(api, other_owner, name="Theirs")

    answer = api.get("/v1/dogs", token=owner.token)

    assert answer.status == 200
    assert [dog["id"] for dog in answer.json()["items"]] == [mine["id"]]
    assert answer.json()["next_cursor"] is None


def test_listing_five_dogs_two_at_a_time_takes_three_pages_without_duplicates(api: MarketApi, owner: Caller) -> None:
    created = [create_dog(api, owner, name=f"Dog {n}")["id"] for n in range(5)]

    pages, cursor = [], None
    while True:
        path = "/v1/dogs?limit=2" + (f"&cursor={cursor}" if cursor else "")
        answer = api.get(path, token=owner.token)
        assert answer.status == 200
        pages.append([dog["id"] for dog in answer.json()["items"]])
        cursor = answer.json()["next_cursor"]
        if cursor is None:
            break
        assert len(pages) < 5, "pagination does not end"

    assert [len(page) for page in pages] == [2, 2, 1]
    listed = [dog_id for page in pages for dog_id in page]
    assert listed == created  # oldest first, each once


def test_a_cursor_the_api_did_not_give_is_a_422(api: MarketApi, owner: Caller) -> None:
    create_dog(api, owner)
    forged = {
        "garbage": "not-a-cursor",
        "bad base64": "!!!!",
        "not a list": base64.urlsafe_b64encode(b'{"a": 1}').decode(),
        "the wrong length": base64.urlsafe_b64encode(b'["2026-11-25T00:00:00+00:00"]').decode(),
        "a list of the wrong things": base64.urlsafe_b64encode(
            json.dumps(["yesterday", "not-a-uuid"]).encode()
        ).decode(),
        "numbers": base64.urlsafe_b64encode(json.dumps([1, 2]).encode()).decode(),
    }

    for case, cursor in forged.items():
        assert names_field(api.get(f"/v1/dogs?cursor={cursor}", token=owner.token), "cursor"), case


def test_a_limit_outside_1_to_100_is_a_422(api: MarketApi, owner: Caller) -> None:
    for limit in ("0", "101", "many"):
        assert names_field(api.get(f"/v1/dogs?limit={limit}", token=owner.token), "limit"), limit


def test_getting_my_dog(api: MarketApi, owner: Caller) -> None:
    dog = create_dog(api, owner)

    answer = api.get(f"/v1/dogs/{dog['id']}", token=owner.token)

    assert answer.status == 200
    assert answer.json() == dog


def test_patch_changes_only_the_fields_sent(api: MarketApi, owner: Caller) -> None:
    dog = create_dog(api, owner)

    answer = api.patch(f"/v1/dogs/{dog['id']}", json_body={"notes": "Calmer now.", "breed": None}, token=owner.token)

    assert answer.status == 200
    changed = answer.json()
    assert changed["notes"] == "Calmer now."
    assert changed["breed"] is None
    for unchanged in ("name", "size", "birth_date", "vaccinated", "owner_id", "created_at"):
        assert changed[unchanged] == dog[unchanged]
    assert datetime.fromisoformat(changed["updated_at"]) > datetime.fromisoformat(dog["updated_at"])
    assert api.get(f"/v1/dogs/{dog['id']}", token=owner.token).json() == changed


def test_an_empty_patch_changes_nothing(api: MarketApi, owner: Caller) -> None:
    dog = create_dog(api, owner)

    answer = api.patch(f"/v1/dogs/{dog['id']}", json_body={}, token=owner.token)

    assert answer.status == 200
    assert answer.json() == dog


def test_patching_a_required_field_to_null_is_a_422(api: MarketApi, owner: Caller) -> None:
    dog = create_dog(api, owner)

    for field in ("name", "size", "vaccinated"):
        answer = api.patch(f"/v1/dogs/{dog['id']}", json_body={field: None}, token=owner.token)
        assert_problem(answer, 422, "validation_error")

    assert api.get(f"/v1/dogs/{dog['id']}", token=owner.token).json() == dog


def test_patching_an_unknown_field_is_a_422(api: MarketApi, owner: Caller) -> None:
    dog = create_dog(api, owner)

    answer = api.patch(f"/v1/dogs/{dog['id']}", json_body={"owner_id": owner.id}, token=owner.token)

    assert names_field(answer, "owner_id")


def test_patching_a_bad_size_is_a_422_naming_size(api: MarketApi, owner: Caller) -> None:
    dog = create_dog(api, owner)

    assert names_field(api.patch(f"/v1/dogs/{dog['id']}", json_body={"size": "tiny"}, token=owner.token), "size")


def test_deleting_my_dog_is_204_and_then_it_is_not_found(api: MarketApi, owner: Caller) -> None:
    dog = create_dog(api, owner)

    answer = api.delete(f"/v1/dogs/{dog['id']}", token=owner.token)

    assert answer.status == 204
    assert answer.body == b""
    assert_problem(api.get(f"/v1/dogs/{dog['id']}", token=owner.token), 404, "not_found")
    assert api.get("/v1/dogs", token=owner.token).json()["items"] == []
    assert_problem(api.delete(f"/v1/dogs/{dog['id']}", token=owner.token), 404, "not_found")


def test_another_owners_dog_is_not_found_for_get_patch_and_delete_and_stays_unchanged(
    api: MarketApi, owner: Caller, other_owner: Caller
) -> None:
    theirs = create_dog(api, other_owner)
    path = f"/v1/dogs/{theirs['id']}"

    assert_problem(api.get(path, token=owner.token), 404, "not_found")
    assert_problem(api.patch(path, json_body={"name": "Stolen"}, token=owner.token), 404, "not_found")
    assert_problem(api.delete(path, token=owner.token), 404, "not_found")

    assert api.get(path, token=other_owner.token).json() == theirs


def test_an_unknown_or_malformed_dog_id_is_not_found(api: MarketApi, owner: Caller) -> None:
    for dog_id in ("00000000-0000-0000-0000-000000000000", "not-a-uuid"):
        assert_problem(api.get(f"/v1/dogs/{dog_id}", token=owner.token), 404, "not_found")
        assert_problem(api.patch(f"/v1/dogs/{dog_id}", json_body={"name": "X"}, token=owner.token), 404, "not_found")
        assert_problem(api.delete(f"/v1/dogs/{dog_id}", token=owner.token), 404, "not_found")


def test_a_walker_calling_any_dog_endpoint_is_forbidden(api: MarketApi, owner: Caller, walker: Caller) -> None:
    dog = create_dog(api, owner)
    path = f"/v1/dogs/{dog['id']}"

    assert_problem(api.post("/v1/dogs", json_body=DOG, token=walker.token), 403, "forbidden")
    assert_problem(api.get("/v1/dogs", token=walker.token), 403, "forbidden")
    assert_problem(api.get(path, token=walker.token), 403, "forbidden")
    assert_problem(api.patch(path, json_body={"name": "X"}, token=walker.token), 403, "forbidden")
    assert_problem(api.delete(path, token=walker.token), 403, "forbidden")
    assert api.get(path, token=owner.token).json() == dog


def test_dog_endpoints_need_a_token(api: MarketApi) -> None:
    assert_problem(api.get("/v1/dogs"), 401, "unauthorized")


# --- deleting a dog with walks ------------------------------------------------------------------


def _booked_dog(api: MarketApi, state: Dependencies, owner: Caller, *, status: str, days_ahead: float) -> str:
    walker = new_caller(state, "walker")
    put_profile(api, walker)
    dog = create_dog(api, owner)
    start = datetime.now(UTC) + timedelta(days=days_ahead)
    insert_booking(
        state.database_url,
        owner_id=owner.id,
        walker_id=walker.id,
        start=start,
        end=start + timedelta(hours=1),
        status=status,
        dog_ids=[dog["id"]],
    )
    return dog["id"]


def test_a_dog_with_a_future_accepted_or_ongoing_walk_cannot_be_deleted(
    api: MarketApi, state: Dependencies, owner: Caller
) -> None:
    accepted = _booked_dog(api, state, owner, status="accepted", days_ahead=3)
    ongoing = _booked_dog(api, state, owner, status="in_progress", days_ahead=-0.01)

    for dog_id in (accepted, ongoing):
        assert_problem(api.delete(f"/v1/dogs/{dog_id}", token=owner.token), 409, "invalid_state")
        assert api.get(f"/v1/dogs/{dog_id}", token=owner.token).status == 200


def test_a_dog_whose_only_walk_is_past_or_not_accepted_can_be_deleted(
    api: MarketApi, state: Dependencies, owner: Caller
) -> None:
    cases = [("accepted", -3), ("completed", -3), ("requested", 3), ("cancelled", 3), ("declined", 3)]
    for status, days_ahead in cases:
        dog_id = _booked_dog(api, state, owner, status=status, days_ahead=days_ahead)

        assert api.delete(f"/v1/dogs/{dog_id}", token=owner.token).status == 204, (status, days_ahead)

        # the row stays for the walk that had it
        deleted = rows(state.database_url, "SELECT deleted_at FROM dogs WHERE id = %s", dog_id)
        assert deleted[0]["deleted_at"] is not None


def test_field_problems_name_the_body_field(api: MarketApi, owner: Caller) -> None:
    answer = api.post("/v1/dogs", json_body={"name": "", "size": "small"}, token=owner.token)

    locs = error_locs(answer)
    assert any("name" in loc for loc in locs)
    assert any("vaccinated" in loc for loc in locs)
