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
from tests.integration.conftest import assert_problem as assert_problem  # re-exported for the tests here

PASSWORD = "correct horse battery staple"


AuthApi = Api  # the shared client: answers recorded, error contract checked


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
    from dogwalk.adapters import cache, db
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


# --- the account's emails -----------------------------------------------------------------------


class Mail:
    """The events topic, the channel queues and the SES sender on moto, as `make run` makes them; the
    email consumer run on what the email queue holds; and the local mailbox, read as a developer
    reads it (`GET /_local/emails?to=`)."""

    def __init__(self, api: AuthApi) -> None:
        self.api = api

    def deliver(self) -> None:
        """Publish what the outbox holds and run the email consumer on its queue (the inbox's and
        push's too: they must let the account's emails be)."""
        from dogwalk.events import relay
        from tests.integration.notifications.conftest import consume

        relay.publish()
        for consumer in ("notify_email", "notify_inbox", "notify_push"):
            consume(consumer)

    def emails(self, to: str) -> list[dict[str, Any]]:
        answer = self.api.get(f"/_local/emails?to={to}")
        assert answer.status == 200, answer.body
        items: list[dict[str, Any]] = answer.json()["items"]
        return items

    def token(self, to: str, subject: str) -> str:
        """The token of the newest email to `to` with `subject` (its link's `#token=`)."""
        email = next(item for item in self.emails(to) if item["subject"] == subject)
        return str(email["text"].split("#token=", 1)[1].split()[0])


VERIFY_SUBJECT = "Confirm your email"
RESET_SUBJECT = "Reset your password"
CHANGED_SUBJECT = "Your password was changed"
DELETED_SUBJECT = "Your account was deleted"


@pytest.fixture
def mail(api: AuthApi, events_topic: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Mail]:
    from dogwalk.config import settings
    from local.senders import ensure_notification_senders

    for name, value in ensure_notification_senders().items():
        monkeypatch.setenv(name, value)
    settings.cache_clear()
    yield Mail(api)
    settings.cache_clear()
