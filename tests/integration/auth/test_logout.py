"""POST /v1/auth/logout: revokes the presented refresh token's family, and only if it is the
caller's own."""

from __future__ import annotations

from tests.integration.auth.conftest import AuthApi, assert_problem, login, refresh, register
from tests.integration.conftest import Answer


def _logout(api: AuthApi, access_token: str, refresh_token: str) -> Answer:
    return api.post("/v1/auth/logout", json_body={"refresh_token": refresh_token}, token=access_token)


def test_logout_is_204_and_revokes_that_family(api: AuthApi) -> None:
    pair = register(api)

    answer = _logout(api, pair["access_token"], pair["refresh_token"])

    assert answer.status == 204
    assert answer.body == b""
    assert_problem(refresh(api, pair["refresh_token"]), 401, "invalid_token")


def test_logout_leaves_the_users_other_sessions_alone(api: AuthApi) -> None:
    phone = register(api)
    laptop = login(api).json()

    assert _logout(api, phone["access_token"], phone["refresh_token"]).status == 204

    assert refresh(api, laptop["refresh_token"]).status == 200


def test_logout_with_someone_elses_refresh_token_revokes_nothing(api: AuthApi) -> None:
    mallory = register(api, email="mallory@example.com")
    sam = register(api, email="sam@example.com")

    answer = _logout(api, mallory["access_token"], sam["refresh_token"])

    assert answer.status == 204
    assert refresh(api, sam["refresh_token"]).status == 200


def test_logout_needs_an_access_token(api: AuthApi) -> None:
    pair = register(api)

    assert_problem(api.post("/v1/auth/logout", json_body={"refresh_token": pair["refresh_token"]}), 401, "unauthorized")
    assert refresh(api, pair["refresh_token"]).status == 200
