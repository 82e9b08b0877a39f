"""POST /v1/admin/users/{user_id}/suspend: an admin locks a user out: live access tokens are
refused from the next request (also when Redis is down), no login, no refresh."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.conftest import Dependencies, SeededUser, insert_user
from tests.integration.auth.conftest import AuthApi, assert_problem, login, refresh, register
from tests.integration.conftest import Answer, token_for


@pytest.fixture
def admin(state: Dependencies) -> SeededUser:
    return insert_user(state.database_url, "admin")


def _suspend(api: AuthApi, user_id: str, token: str) -> Answer:
    return api.post(f"/v1/admin/users/{user_id}/suspend", token=token)


def test_an_admin_suspends_an_owner_with_204(api: AuthApi, admin: SeededUser) -> None:
    owner = register(api)

    answer = _suspend(api, owner["user"]["id"], token_for(admin))

    assert answer.status == 204


def test_the_suspended_users_live_access_token_is_refused_on_the_next_request(api: AuthApi, admin: SeededUser) -> None:
    owner = register(api)
    assert api.get("/v1/auth/me", token=owner["access_token"]).status == 200

    assert _suspend(api, owner["user"]["id"], token_for(admin)).status == 204

    assert_problem(api.get("/v1/auth/me", token=owner["access_token"]), 401, "account_suspended")


def test_a_suspended_user_cannot_log_in(api: AuthApi, admin: SeededUser) -> None:
    owner = register(api)
    assert _suspend(api, owner["user"]["id"], token_for(admin)).status == 204

    assert_problem(login(api), 403, "account_suspended")


def test_a_suspended_user_cannot_refresh(api: AuthApi, admin: SeededUser) -> None:
    owner = register(api)
    assert _suspend(api, owner["user"]["id"], token_for(admin)).status == 204

    assert_problem(refresh(api, owner["refresh_token"]), 401, "invalid_token")


def test_suspending_leaves_other_users_alone(api: AuthApi, admin: SeededUser) -> None:
    sam = register(api, email="sam@example.com")
    kim = register(api, email="kim@example.com")

    assert _suspend(api, sam["user"]["id"], token_for(admin)).status == 204

    assert api.get("/v1/auth/me", token=kim["access_token"]).status == 200
    assert refresh(api, kim["refresh_token"]).status == 200
    assert login(api, email="kim@example.com").status == 200


def test_an_owner_may_not_suspend(api: AuthApi) -> None:
    sam = register(api, email="sam@example.com")
    kim = register(api, email="kim@example.com")

    assert_problem(_suspend(api, kim["user"]["id"], sam["access_token"]), 403, "forbidden")

    assert api.get("/v1/auth/me", token=kim["access_token"]).status == 200


@pytest.mark.parametrize("user_id", ["0b7c3f7e-9a44-4c1e-8a5e-3b1f2d6c9e01", "not-a-uuid", "1"])
def test_suspending_an_unknown_or_malformed_id_is_404(api: AuthApi, admin: SeededUser, user_id: str) -> None:
    assert_problem(_suspend(api, user_id, token_for(admin)), 404, "not_found")


def test_suspension_is_enforced_from_the_database_when_redis_is_down(
    api: AuthApi, admin: SeededUser, redis_goes_down: Callable[[], None]
) -> None:
    sam = register(api, email="sam@example.com")
    kim = register(api, email="kim@example.com")
    assert _suspend(api, sam["user"]["id"], token_for(admin)).status == 204

    redis_goes_down()

    assert_problem(api.get("/v1/auth/me", token=sam["access_token"]), 401, "account_suspended")
    assert api.get("/v1/auth/me", token=kim["access_token"]).status == 200
