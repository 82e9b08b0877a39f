"""Integration tests: handlers called with real API Gateway events (built and routed by the local
gateway, authorizer included) against the real PostgreSQL and Redis; moto for AWS only."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from moto import mock_aws

from tests.conftest import Dependencies, SeededUser, insert_user
from tests.gateway_events import CONNECT_SECRET, PLATFORM_SECRET


@pytest.fixture(autouse=True)
def aws() -> Iterator[None]:
    """A fresh moto per test. The boto3 clients are kept from test to test, as a warm Lambda keeps them:
    moto intercepts a client whenever it was made, and a client costs ~0.1 s to make."""
    from dogwalk.adapters import aws as aws_clients
    from dogwalk.auth import signing_keys
    from dogwalk.config import settings
    from dogwalk.payments import gateway

    with mock_aws():
        gateway._client.cache_clear()
        signing_keys.forget_cache()
        signing_keys.ensure_signing_key()
        credentials = json.dumps(
            {"api_key": "sk_test_tests", "webhook_secret": PLATFORM_SECRET, "connect_webhook_secret": CONNECT_SECRET}
        )
        aws_clients.client("secretsmanager").create_secret(Name=settings().payments_secret_id, SecretString=credentials)
        yield
    gateway._client.cache_clear()
    signing_keys.forget_cache()


@pytest.fixture
def home_access_key(aws: None) -> str:
    """The home-access key (care), under its alias, as `make run` makes it: only for the tests that
    seal or open a home (a KMS key per test costs a quarter of a second)."""
    from local.home_access_key import ensure_home_access_key

    return ensure_home_access_key()


@pytest.fixture
def events_topic(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The channel queues and the events topic they subscribe to, on moto, as `make run` makes them;
    the functions publish to it (DOGWALK_EVENTS_TOPIC_ARN)."""
    from dogwalk.config import settings
    from local.queues import QueueRunner, ensure_events_topic

    QueueRunner(stop=threading.Event()).ensure_queues()
    topic = ensure_events_topic()
    monkeypatch.setenv("DOGWALK_EVENTS_TOPIC_ARN", topic)
    settings.cache_clear()
    yield topic
    settings.cache_clear()


@pytest.fixture(autouse=True)
def state(clean_state: Dependencies) -> Dependencies:
    return clean_state


CLIENT_IP = "203.0.113.7"


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Api:
    """Requests through the local gateway in-process: route match, authorizer, REST proxy event."""

    def __init__(self) -> None:
        from local.api_gateway import Gateway

        self.gateway = Gateway()
        self.answers: list[Answer] = []

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        raw: bytes | None = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        source_ip: str = CLIENT_IP,
    ) -> Answer:
        sent = dict(headers or {})
        body = raw if raw is not None else (json.dumps(json_body).encode() if json_body is not None else b"")
        if body:
            sent.setdefault("Content-Type", "application/json")
        if token:
            sent["Authorization"] = f"Bearer {token}"
        reply = self.gateway.handle(method, path, list(sent.items()), body, source_ip)
        answer = Answer(reply.status, {k.lower(): v for k, v in reply.headers}, reply.body)
        self.answers.append(answer)
        return answer

    def get(self, path: str, **kwargs: Any) -> Answer:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Answer:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Answer:
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Answer:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Answer:
        return self.request("DELETE", path, **kwargs)


@pytest.fixture
def api() -> Iterator[Api]:
    """The client; after the test, every answer it got is checked against the error contract:
    each carries X-Request-Id, and each 4xx or 500 is problem+json with a `code`."""
    client = Api()
    yield client
    for answer in client.answers:
        assert answer.headers.get("x-request-id"), answer.body
        if 400 <= answer.status < 500 or answer.status == 500:
            assert answer.headers.get("content-type") == "application/problem+json", answer.body
            assert answer.json().get("code"), answer.body


def assert_problem(answer: Answer, status: int, code: str) -> dict[str, Any]:
    """`answer` is the RFC 9457 problem `status`/`code`; its body."""
    assert answer.status == status, answer.body
    assert answer.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = answer.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["request_id"] == answer.headers["x-request-id"]
    return body


@pytest.fixture
def owner(state: Dependencies) -> SeededUser:
    return insert_user(state.database_url, "owner")


def token_for(user: SeededUser) -> str:
    from dogwalk.auth.tokens import issue_access_token

    return issue_access_token(user.id, user.role)[0]
