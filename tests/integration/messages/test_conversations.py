"""Conversations through the gateway: an owner starts one per walker (once, even when racing), the
two parties send, page, read and block; anyone else, admins included, is told it does not exist;
refusals (bad input, blocks, limits, Redis down) change nothing; an idempotent retry sends once."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from dogwalk.adapters import db
from tests.conftest import Dependencies
from tests.integration.auth.conftest import redis_goes_down  # noqa: F401 - fixture
from tests.integration.bookings.conftest import EVERY_DAY
from tests.integration.conftest import Api, assert_problem
from tests.integration.marketplace.conftest import Caller, make_walker, new_caller, rows, run_sql
from tests.integration.messages.conftest import (
    CONVERSATIONS,
    listed,
    messages,
    send,
    sent,
    start,
)


def count(state: Dependencies, sql: str, *params: Any) -> int:
    return int(rows(state.database_url, f"SELECT count(*) AS n FROM {sql}", *params)[0]["n"])  # noqa: S608 - the tests' own


def unread_of(api: Api, caller: Caller, conversation_id: str) -> int:
    (found,) = [item for item in listed(api, caller)["items"] if item["id"] == conversation_id]
    return int(found["unread"])


# --- starting -------------------------------------------------------------------------------------


def test_an_owner_starts_one_conversation_per_walker_and_a_second_start_answers_it(
    api: Api, owner: Caller, walker: Caller
) -> None:
    first = start(api, owner, walker.id)
    again = start(api, owner, walker.id)

    assert first.status == 201, first.body
    body = first.json()
    assert set(body) == {"id", "owner_id", "walker_id", "last_message_at", "unread"}
    assert (body["owner_id"], body["walker_id"], body["last_message_at"], body["unread"]) == (
        owner.id, walker.id, None, 0,
    )  # fmt: skip
    uuid.UUID(body["id"])
    assert again.status == 200 and again.json() == body
    assert listed(api, owner)["items"] == [body]
    assert listed(api, walker)["items"] == [body]


def test_only_a_bookable_walker_can_be_written_to(api: Api, state: Dependencies, owner: Caller, admin: Caller) -> None:
    other_owner = new_caller(state, "owner")
    unverified = make_walker(api, state, admin, weekly=EVERY_DAY, verified=False)
    suspended = make_walker(api, state, admin, weekly=EVERY_DAY)
    run_sql(state.database_url, "UPDATE users SET suspended_at = now() WHERE id = %s", suspended.id)
    no_profile = new_caller(state, "walker")

    for walker_id in (str(uuid.uuid4()), "not-a-uuid", unverified.id, suspended.id, no_profile.id, other_owner.id):
        assert_problem(start(api, owner, walker_id), 404, "not_found")

    assert count(state, "conversations") == 0


def test_a_walker_cannot_start_a_conversation(api: Api, state: Dependencies, walker: Caller) -> None:
    other_walker = new_caller(state, "walker")

    assert_problem(start(api, walker, other_walker.id), 403, "forbidden")
    assert count(state, "conversations") == 0


@pytest.mark.parametrize(
    "body", [{}, {"walker_id": None}, {"walker_id": 42}, {"walker_id": str(uuid.uuid4()), "note": "hi"}]
)
def test_a_start_that_does_not_fit_the_model_is_422(api: Api, state: Dependencies, owner: Caller, body: Any) -> None:
    assert_problem(api.post(CONVERSATIONS, json_body=body, token=owner.token), 422, "validation_error")
    assert count(state, "conversations") == 0


def test_concurrent_first_starts_by_the_owner_make_one_conversation(
    state: Dependencies, owner: Caller, walker: Caller
) -> None:
    from dogwalk.messages import conversations

    together = threading.Barrier(8)
    outcomes: list[tuple[str, bool]] = []

    def begin() -> None:
        together.wait(timeout=10)
        try:
            found, created = conversations.start(owner.id, walker.id)
            outcomes.append((found["id"], created))
        finally:
            db.reset()  # this thread's connection

    threads = [threading.Thread(target=begin) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(outcomes) == 8
    assert len({conversation_id for conversation_id, _ in outcomes}) == 1
    assert [created for _, created in outcomes].count(True) == 1
    assert count(state, "conversations") == 1


# --- who may see it ---------------------------------------------------------------------------------


def test_strangers_are_told_the_conversation_does_not_exist_everywhere(
    api: Api, state: Dependencies, owner: Caller, walker: Caller, admin: Caller, conversation: dict[str, Any]
) -> None:
    sent(api, owner, conversation["id"], "See you at 10")
    strangers = [new_caller(state, "owner"), new_caller(state, "walker"), admin]
    before = rows(state.database_url, "SELECT * FROM conversations")

    for stranger in strangers:
        path = f"{CONVERSATIONS}/{conversation['id']}"
        assert_problem(messages(api, stranger, conversation["id"]), 404, "not_found")
        assert_problem(send(api, stranger, conversation["id"], "Hello?"), 404, "not_found")
        assert_problem(api.post(f"{path}/read", token=stranger.token), 404, "not_found")
        assert_problem(api.post(f"{path}/block", token=stranger.token), 404, "not_found")
    # the answer for a conversation that does not exist is the same
    missing = str(uuid.uuid4())
    assert_problem(messages(api, owner, missing), 404, "not_found")
    assert_problem(messages(api, owner, "not-a-uuid"), 404, "not_found")

    assert listed(api, strangers[0])["items"] == [] and listed(api, strangers[1])["items"] == []
    assert_problem(api.get(CONVERSATIONS, token=admin.token), 403, "forbidden")  # not a party's role
    assert rows(state.database_url, "SELECT * FROM conversations") == before
    assert count(state, "messages") == 1
    assert count(state, "outbox WHERE event_type = 'message.received'") == 1


# --- sending and reading ------------------------------------------------------------------------------


def test_both_parties_send_and_read_the_thread_newest_first(
    api: Api, owner: Caller, walker: Caller, conversation: dict[str, Any]
) -> None:
    question = sent(api, owner, conversation["id"], "Can you take Rex on Friday?")
    answer = sent(api, walker, conversation["id"], "Yes, 10:00 works 🐕")

    assert set(question) == {"id", "sender_id", "text", "photo", "sent_at"}
    assert (question["sender_id"], question["text"], question["photo"]) == (owner.id, "Can you take Rex on Friday?",
                                                                            None)  # fmt: skip
    assert answer["sender_id"] == walker.id and answer["text"] == "Yes, 10:00 works 🐕"
    for reader in (owner, walker):
        page = messages(api, reader, conversation["id"])
        assert page.status == 200, page.body
        assert page.json() == {"items": [answer, question], "next_cursor": None}
    assert listed(api, owner)["items"][0]["last_message_at"] == answer["sent_at"]


def test_pages_go_newest_first_across_pages_without_duplicates(
    api: Api, owner: Caller, walker: Caller, conversation: dict[str, Any]
) -> None:
    written = [sent(api, owner if i % 2 == 0 else walker, conversation["id"], f"message {i}") for i in range(23)]

    pages, cursor = [], None
    while True:
        answer = messages(api, walker, conversation["id"], f"?limit=5{f'&cursor={cursor}' if cursor else ''}")
        assert answer.status == 200, answer.body
        pages.append(answer.json()["items"])
        cursor = answer.json()["next_cursor"]
        if cursor is None:
            break
        assert len(pages) < 10, "the pages never ended"

    assert [len(page) for page in pages] == [5, 5, 5, 5, 3]
    assert [item["id"] for page in pages for item in page] == [item["id"] for item in reversed(written)]
    assert_problem(messages(api, walker, conversation["id"], "?cursor=garbage"), 422, "validation_error")
    assert_problem(messages(api, walker, conversation["id"], "?limit=0"), 422, "validation_error")


def test_unread_counts_are_each_partys_own_and_read_sets_them_to_zero(
    api: Api, owner: Caller, walker: Caller, conversation: dict[str, Any]
) -> None:
    for text in ("one", "two", "three"):
        sent(api, owner, conversation["id"], text)
    assert (unread_of(api, walker, conversation["id"]), unread_of(api, owner, conversation["id"])) == (3, 0)

    sent(api, walker, conversation["id"], "got them")
    assert (unread_of(api, walker, conversation["id"]), unread_of(api, owner, conversation["id"])) == (3, 1)

    read = api.post(f"{CONVERSATIONS}/{conversation['id']}/read", token=walker.token)
    assert read.status == 204 and read.body == b""
    assert (unread_of(api, walker, conversation["id"]), unread_of(api, owner, conversation["id"])) == (0, 1)
    assert api.post(f"{CONVERSATIONS}/{conversation['id']}/read", token=owner.token).status == 204
    assert api.post(f"{CONVERSATIONS}/{conversation['id']}/read", token=owner.token).status == 204  # again: fine
    assert (unread_of(api, walker, conversation["id"]), unread_of(api, owner, conversation["id"])) == (0, 0)


def test_the_list_is_latest_activity_first_and_paged(
    api: Api, state: Dependencies, owner: Caller, walker: Caller, admin: Caller
) -> None:
    walkers = [walker, *(make_walker(api, state, admin, weekly=EVERY_DAY) for _ in range(2))]
    started = [start(api, owner, each.id).json() for each in walkers]
    sent(api, owner, started[1]["id"], "first")
    sent(api, walkers[0], started[0]["id"], "latest")
    # started[2] has no message: its start is its activity, earlier than both messages

    order = [started[0]["id"], started[1]["id"], started[2]["id"]]
    assert [item["id"] for item in listed(api, owner)["items"]] == order
    paged, cursor = [], None
    while True:
        page = listed(api, owner, f"?limit=1{f'&cursor={cursor}' if cursor else ''}")
        paged += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert paged == order
    assert [item["id"] for item in listed(api, walkers[1])["items"]] == [started[1]["id"]]
    assert_problem(api.get(f"{CONVERSATIONS}?cursor=WzEsMl0", token=owner.token), 422, "validation_error")


# --- refusals ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("blocker", ["owner", "walker"])
def test_after_a_block_nobody_sends_either_way(
    api: Api, state: Dependencies, owner: Caller, walker: Caller, conversation: dict[str, Any], blocker: str
) -> None:
    kept = sent(api, owner, conversation["id"], "before the block")
    by = owner if blocker == "owner" else walker

    blocked = api.post(f"{CONVERSATIONS}/{conversation['id']}/block", token=by.token)

    assert blocked.status == 204 and blocked.body == b""
    for sender in (owner, walker):
        refused = assert_problem(send(api, sender, conversation["id"], "after the block"), 403, "blocked")
        assert "blocked" in refused["detail"]
    assert api.post(f"{CONVERSATIONS}/{conversation['id']}/block", token=walker.token).status == 204  # again: fine
    assert messages(api, walker, conversation["id"]).json()["items"] == [kept]  # the thread stays readable
    assert count(state, "messages") == 1
    assert count(state, "outbox WHERE event_type = 'message.received'") == 1
    assert rows(state.database_url, "SELECT blocked_by::text FROM conversations") == [{"blocked_by": by.id}]
    assert start(api, owner, walker.id).status == 200  # still the one conversation, still blocked
    assert_problem(send(api, owner, conversation["id"]), 403, "blocked")


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"text": ""}, 422, "text"),
        ({"text": "x" * 2001}, 422, "text"),
        ({}, 422, "text"),
        ({"text": 42}, 422, "text"),
        ({"text": "hi", "sender_id": "me"}, 422, "sender_id"),
        ({"text": "hi", "photo_id": str(uuid.uuid4())}, 422, "photo_id"),  # photos are not available yet
    ],
)
def test_a_message_that_does_not_fit_is_refused_and_changes_nothing(
    api: Api, state: Dependencies, owner: Caller, walker: Caller, conversation: dict[str, Any],
    body: dict[str, Any], status: int, field: str,
) -> None:  # fmt: skip
    answer = api.post(f"{CONVERSATIONS}/{conversation['id']}/messages", json_body=body, token=owner.token)

    problem = assert_problem(answer, status, "validation_error")
    assert any(field in error["loc"] for error in problem["errors"]), problem
    assert count(state, "messages") == 0 and count(state, "outbox WHERE event_type = 'message.received'") == 0
    assert unread_of(api, walker, conversation["id"]) == 0
    assert listed(api, owner)["items"][0]["last_message_at"] is None


def test_malformed_json_is_400_and_2000_characters_are_fine(
    api: Api, state: Dependencies, owner: Caller, conversation: dict[str, Any]
) -> None:
    path = f"{CONVERSATIONS}/{conversation['id']}/messages"
    assert_problem(api.post(path, raw=b'{"text": "unfinished', token=owner.token), 400, "bad_request")
    assert count(state, "messages") == 0

    longest = sent(api, owner, conversation["id"], "é" * 2000)  # characters, not bytes
    assert len(longest["text"]) == 2000


def test_an_idempotent_retry_answers_the_same_message_and_sends_it_once(
    api: Api, state: Dependencies, owner: Caller, walker: Caller, conversation: dict[str, Any]
) -> None:
    key = {"Idempotency-Key": "msg-retry-1"}

    first = send(api, owner, conversation["id"], "Running 5 minutes late", headers=key)
    retry = send(api, owner, conversation["id"], "Running 5 minutes late", headers=key)
    other_body = send(api, owner, conversation["id"], "Something else", headers=key)

    assert first.status == 201, first.body
    assert retry.status == 201 and retry.json() == first.json()
    assert retry.headers.get("idempotent-replayed") == "true"
    assert_problem(other_body, 409, "idempotency_conflict")
    assert count(state, "messages") == 1
    assert count(state, "outbox WHERE event_type = 'message.received'") == 1
    assert unread_of(api, walker, conversation["id"]) == 1


def test_a_sender_over_30_a_minute_is_told_to_wait(
    api: Api, state: Dependencies, owner: Caller, walker: Caller, conversation: dict[str, Any]
) -> None:
    for i in range(30):
        sent(api, owner, conversation["id"], f"spam {i}")

    refused = send(api, owner, conversation["id"], "one more")

    assert_problem(refused, 429, "rate_limited")
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert count(state, "messages") == 30
    assert sent(api, walker, conversation["id"], "please stop")["sender_id"] == walker.id  # the limit is per sender


def test_the_daily_limit_and_refused_sends_do_not_count(
    api: Api, state: Dependencies, owner: Caller, walker: Caller, conversation: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    from dogwalk.adapters.ratelimit import Limit
    from dogwalk.messages import conversations

    monkeypatch.setattr(conversations, "SENDS_PER_DAY", Limit("messages-day", 3, 24 * 3600, fail_open=False))
    assert_problem(send(api, owner, conversation["id"], ""), 422, "validation_error")
    assert_problem(send(api, owner, str(uuid.uuid4())), 404, "not_found")
    for i in range(3):
        sent(api, owner, conversation["id"], f"message {i}")

    refused = send(api, owner, conversation["id"], "a fourth today")

    assert_problem(refused, 429, "rate_limited")
    assert int(refused.headers["retry-after"]) > 23 * 3600
    assert count(state, "messages") == 3


def test_sending_fails_closed_when_redis_is_down(
    api: Api, state: Dependencies, owner: Caller, walker: Caller, conversation: dict[str, Any],
    redis_goes_down: Callable[[], None],  # noqa: F811 - the fixture imported above
) -> None:  # fmt: skip
    redis_goes_down()

    assert_problem(send(api, owner, conversation["id"], "anyone there?"), 503, "service_unavailable")
    assert count(state, "messages") == 0 and count(state, "outbox WHERE event_type = 'message.received'") == 0
    assert messages(api, walker, conversation["id"]).status == 200  # reading goes on
