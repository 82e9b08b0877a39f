"""Shared by the messages tests: the bookings suite's people (an owner, a verified walker
available every day, an admin), a conversation between them, and small calls of the API."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.bookings.conftest import admin, owner, walker  # noqa: F401 - fixtures
from tests.integration.conftest import Answer, Api
from tests.integration.marketplace.conftest import Caller

CONVERSATIONS = "/v1/conversations"


def start(api: Api, by: Caller, walker_id: str) -> Answer:
    return api.post(CONVERSATIONS, json_body={"walker_id": walker_id}, token=by.token)


def send(api: Api, sender: Caller, conversation_id: str, text: str = "Hi!", **extra: Any) -> Answer:
    headers = extra.pop("headers", None)
    return api.post(f"{CONVERSATIONS}/{conversation_id}/messages", json_body={"text": text, **extra},
                    token=sender.token, headers=headers)  # fmt: skip


def sent(api: Api, sender: Caller, conversation_id: str, text: str = "Hi!") -> dict[str, Any]:
    answer = send(api, sender, conversation_id, text)
    assert answer.status == 201, answer.body
    body: dict[str, Any] = answer.json()
    return body


def messages(api: Api, caller: Caller, conversation_id: str, query: str = "") -> Answer:
    return api.get(f"{CONVERSATIONS}/{conversation_id}/messages{query}", token=caller.token)


def listed(api: Api, caller: Caller, query: str = "") -> dict[str, Any]:
    answer = api.get(CONVERSATIONS + query, token=caller.token)
    assert answer.status == 200, answer.body
    body: dict[str, Any] = answer.json()
    return body


@pytest.fixture
def conversation(api: Api, owner: Caller, walker: Caller) -> dict[str, Any]:  # noqa: F811 - the fixtures above
    """The owner's conversation with the walker, as its 201 answered it."""
    answer = start(api, owner, walker.id)
    assert answer.status == 201, answer.body
    body: dict[str, Any] = answer.json()
    return body
