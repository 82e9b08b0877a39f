"""Auth through the gateway: a client that can call from any source address and that checks, for
every 4xx it received, the problem+json contract; small helpers to register, log in and read rows."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from tests.conftest import Dependencies
from tests.integration.conftest import CLIENT_IP, Answer, Api

PASSWORD = "correct horse battery staple"


def assert_problem(answer: Answer, status: int, code: str) -> dict[str, Any]:
    """`answer` is the RFC 9457 problem `status`/`code`; its body."""
    assert answer.status == status, answer.body
    assert answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["request_id"] == answer.headers["x-request-id"]
    return body


class AuthApi(Api):
    """The shared client, plus a source address per request; remembers every answer."""

    def __init__(self) -> None:
        super().__init__()
        self.answers: list[Answer] = []

    def request(self, method: str, path: str, **kwargs: Any) -> Answer:
        answer = super().request(method, path, **kwargs)
        self.answers.append(answer)
        return answer


@pytest.fixture
def api() -> Iterator[AuthApi]:
    client = AuthApi()
    yield client
    for answer in client.answers:
        if 400 <= answer.status < 500:
            assert answer.headers.get("content-type") == "application/problem+json", answer.body
            assert answer.json().get("code"), answer.body


def register(
    api: AuthApi,
    email: str = "sam@example.com",
    password: str = PASSWORD,
    *,
    role: str = "owner",
    name: str = "Sam Walker",
    source_ip: str = CLIENT_IP,
) -> dict[str, Any]:
    """A registered account's token pair (`user`, `access_token`, `refresh_token`, ...)."""
    answer = api.post(
        "/v1/auth/register",
        json_body={"email": email, "password": password, "role": role, "name": name},
        source_ip=source_ip,
    )
    assert answer.status == 201, answer.body
    return answer.json()


def login(
    api: AuthApi,
    email: str = "sam@example.com",
    password: str = PASSWORD,
    *,
    totp_code: str | None = None,
    source_ip: str = CLIENT_IP,
) -> Answer:
    body: dict[str, Any] = {"email": email, "password": password}
    if totp_code is not None:
        body["totp_code"] = totp_code
    return api.post("/v1/auth/login", json_body=body, source_ip=source_ip)


def refresh(api: AuthApi, refresh_token: str) -> Answer:
    return api.post("/v1/auth/refresh", json_body={"refresh_token": refresh_token})


def query(database_url: str, sql: str, *params: Any) -> list[dict[str, Any]]:
    with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as conn:
        return conn.execute(sql, params).fetchall()  # type: ignore[arg-type]


@pytest.fixture
def redis_goes_down(state: Dependencies) -> Iterator[Callable[[], None]]:
    """Call it to point REDIS_URL at a port where nothing listens; Redis is back after the test."""
    from dogwalk import cache, db
    from dogwalk.config import settings
    from local.services import free_port

    def forget() -> None:
        settings.cache_clear()
        db.reset()
        cache.reset()

    def go_down() -> None:
        os.environ["REDIS_URL"] = f"redis://127.0.0.1:{free_port()}/0"
        forget()

    yield go_down
    os.environ["REDIS_URL"] = state.redis_url
    forget()
