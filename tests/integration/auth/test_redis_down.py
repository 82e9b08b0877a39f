"""When Redis cannot answer: the brute-force limits of the public endpoints fail closed (503),
the general per-user limit fails open (authenticated requests go on)."""

from __future__ import annotations

from collections.abc import Callable

from tests.conftest import Dependencies
from tests.integration.auth.conftest import PASSWORD, AuthApi, assert_problem, login, query, register


def test_login_fails_closed_when_redis_is_down(api: AuthApi, redis_goes_down: Callable[[], None]) -> None:
    register(api)
    redis_goes_down()

    assert_problem(login(api), 503, "service_unavailable")


def test_register_fails_closed_when_redis_is_down(
    api: AuthApi, state: Dependencies, redis_goes_down: Callable[[], None]
) -> None:
    redis_goes_down()

    answer = api.post(
        "/v1/auth/register",
        json_body={"email": "sam@example.com", "password": PASSWORD, "role": "owner", "name": "Sam"},
    )

    assert_problem(answer, 503, "service_unavailable")
    assert query(state.database_url, "SELECT count(*) AS n FROM users") == [{"n": 0}]


def test_authenticated_requests_fail_open_when_redis_is_down(api: AuthApi, redis_goes_down: Callable[[], None]) -> None:
    pair = register(api)
    redis_goes_down()

    answer = api.get("/v1/auth/me", token=pair["access_token"])

    assert answer.status == 200
    assert answer.json()["id"] == pair["user"]["id"]
