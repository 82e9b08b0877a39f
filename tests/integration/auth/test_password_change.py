"""POST /v1/auth/password: needs the current password, applies the policy to the new one, and
revokes every refresh family of the user."""

from __future__ import annotations

from tests.integration.auth.conftest import PASSWORD, AuthApi, assert_problem, login, refresh, register
from tests.integration.conftest import Answer

NEW_PASSWORD = "a brand new passphrase 42"


def _change(api: AuthApi, access_token: str, current: str, new: str) -> Answer:
    return api.post(
        "/v1/auth/password", json_body={"current_password": current, "new_password": new}, token=access_token
    )


def test_a_wrong_current_password_is_401_and_changes_nothing(api: AuthApi) -> None:
    pair = register(api)

    assert_problem(_change(api, pair["access_token"], "not my password", NEW_PASSWORD), 401, "invalid_credentials")

    assert login(api).status == 200
    assert refresh(api, pair["refresh_token"]).status == 200


def test_a_weak_new_password_is_422_on_the_new_password_field(api: AuthApi) -> None:
    pair = register(api)

    body = assert_problem(_change(api, pair["access_token"], PASSWORD, "password1234"), 422, "validation_error")

    assert [error["loc"] for error in body["errors"]] == [["body", "new_password"]]
    assert login(api).status == 200


def test_changing_the_password_revokes_every_family_and_swaps_the_password(api: AuthApi) -> None:
    first = register(api)
    second = login(api).json()

    answer = _change(api, first["access_token"], PASSWORD, NEW_PASSWORD)

    assert answer.status == 204
    assert_problem(refresh(api, first["refresh_token"]), 401, "invalid_token")
    assert_problem(refresh(api, second["refresh_token"]), 401, "invalid_token")
    assert login(api, password=NEW_PASSWORD).status == 200
    assert_problem(login(api, password=PASSWORD), 401, "invalid_credentials")
