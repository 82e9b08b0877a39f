"""What a message sets off besides itself: `message.received` in the outbox for the other party
(ids only), in their inbox and on their push device but not by email or SMS, as their preferences
say; the recipient's WebSocket connections found through the per-user index; a deleted account's
texts blanked with the rows kept; the export's conversations and messages."""

from __future__ import annotations

import json
from typing import Any

from dogwalk.adapters import cache, websocket
from tests.conftest import Dependencies
from tests.integration.auth.conftest import PASSWORD, register
from tests.integration.conftest import Api
from tests.integration.marketplace.conftest import Caller, rows, run_sql
from tests.integration.messages.conftest import messages, sent, start
from tests.integration.notifications.conftest import (
    deliveries_of,
    endpoint_of,
    inbox_of,
    notify_all,
    pushes_to,
    sent_emails,
    sent_texts,
)
from tests.integration.notifications.conftest import senders as senders

SECRET = "The lockbox code is 4921"


def out_of_the_way(state: Dependencies) -> None:
    """The events of getting here (the walker's verification) count as published: only the
    message's event goes out (the people were made before the events topic existed)."""
    run_sql(state.database_url, "UPDATE outbox SET published_at = now()")


def device_of(api: Api, caller: Caller) -> str:
    answer = api.post("/v1/notifications/devices", json_body={"platform": "apns", "token": f"apns-{caller.id}"},
                      token=caller.token)  # fmt: skip
    assert answer.status == 201, answer.body
    return str(answer.json()["id"])


def test_the_recipient_is_told_in_the_inbox_and_by_push_never_by_email_and_never_the_text(
    api: Api, state: Dependencies, owner: Caller, walker: Caller, conversation: dict[str, Any],
    senders: dict[str, str],
) -> None:  # fmt: skip
    out_of_the_way(state)
    device = device_of(api, walker)
    owner_device = device_of(api, owner)

    message = sent(api, owner, conversation["id"], SECRET)

    (event,) = rows(state.database_url, "SELECT id::text, recipient_id::text, recipient_role, payload FROM outbox"
                                        " WHERE event_type = 'message.received'")  # fmt: skip
    assert (event["recipient_id"], event["recipient_role"]) == (walker.id, "walker")
    assert event["payload"] == {"conversation_id": conversation["id"], "message_id": message["id"],
                                "sender_id": owner.id}  # fmt: skip
    notify_all()

    (told,) = inbox_of(walker.id)
    assert (told["event_type"], told["title"], told["body"]) == (
        "message.received", "New message", "Test owner sent you a message. Read it in the app.",
    )  # fmt: skip
    assert told["data"]["conversation_id"] == conversation["id"]
    assert told["data"]["link"].endswith(f"/conversations/{conversation['id']}")
    (push,) = pushes_to(endpoint_of(device))
    assert json.loads(push["APNS_SANDBOX"])["aps"]["alert"]["body"] == told["body"]
    assert "4921" not in json.dumps(push)
    assert sent_emails() == [] and sent_texts() == []
    statuses = {channel: row["status"] for channel, row in deliveries_of(event["id"]).items()}
    assert statuses == {"inbox": "sent", "push": "sent", "email": "skipped"}
    assert inbox_of(owner.id) == [] and pushes_to(endpoint_of(owner_device)) == []  # the sender hears nothing


def test_the_recipients_preferences_apply(
    api: Api, state: Dependencies, owner: Caller, walker: Caller, conversation: dict[str, Any],
    senders: dict[str, str],
) -> None:  # fmt: skip
    out_of_the_way(state)
    device = device_of(api, owner)
    chosen = {"channels": {"message.received": ["email"]}}
    assert api.put("/v1/notifications/preferences", json_body=chosen, token=owner.token).status == 200

    sent(api, walker, conversation["id"], "On my way")
    notify_all()

    assert [n["title"] for n in inbox_of(owner.id)] == ["New message"]  # the inbox always gets it
    assert pushes_to(endpoint_of(device)) == []
    assert [m.subject for m in sent_emails()] == ["New message"]
    assert "On my way" not in sent_emails()[0].body


def test_a_users_open_connections_are_indexed_with_or_without_a_walk(state: Dependencies) -> None:
    from dogwalk.tracking import live

    live.connect("Conn-A=", "user-1", "owner")
    live.connect("Conn-B=", "user-1", "owner")
    live.connect("Conn-C=", "user-2", "walker")
    live.subscribe("Conn-B=", "00000000-0000-4000-8000-000000000001")

    assert websocket.open_connections("user-1") == ["Conn-A=", "Conn-B="]
    assert 0 < cache.client().ttl("ws:user:user-1") <= websocket.CONNECTION_TTL_S

    live.disconnect("Conn-B=")  # $disconnect: its walk and its place in the index go
    assert websocket.open_connections("user-1") == ["Conn-A="]
    assert live.subscribers("00000000-0000-4000-8000-000000000001") == set()

    cache.client().delete(websocket.connection_key("Conn-A="))  # expired without a $disconnect
    assert websocket.open_connections("user-1") == []
    assert cache.client().exists("ws:user:user-1") == 0
    assert websocket.open_connections("user-2") == ["Conn-C="]


def test_no_push_is_tried_without_a_websocket_api(
    api: Api, owner: Caller, walker: Caller, conversation: dict[str, Any]
) -> None:
    from dogwalk.messages import conversations

    websocket.remember("Conn-W=", walker.id, "walker")
    message = sent(api, owner, conversation["id"], "Hello")

    told = conversations.tell_recipient(conversations.Sent(conversation["id"], walker.id, message), message)

    assert told == 0
    assert websocket.open_connections(walker.id) == ["Conn-W="]  # nothing pushed, nothing forgotten


def test_deleting_an_account_blanks_its_texts_and_keeps_the_thread(
    api: Api, state: Dependencies, walker: Caller
) -> None:
    pair = register(api, "olive@example.com", role="owner", name="Olive Owner")
    owner = Caller(pair["user"]["id"], "owner", pair["access_token"])
    conversation = start(api, owner, walker.id).json()
    asked = sent(api, owner, conversation["id"], SECRET)
    answered = sent(api, walker, conversation["id"], "Noted, thanks")

    deleted = api.delete("/v1/auth/me", json_body={"password": PASSWORD}, token=owner.token)

    assert deleted.status == 202, deleted.body
    items = messages(api, walker, conversation["id"]).json()["items"]
    assert items == [answered, {**asked, "text": ""}]
    stored = rows(state.database_url, "SELECT sender_id::text, text, erased FROM messages ORDER BY created_at")
    assert stored == [{"sender_id": owner.id, "text": "", "erased": True},
                      {"sender_id": walker.id, "text": "Noted, thanks", "erased": False}]  # fmt: skip
    found = rows(state.database_url, "SELECT count(*) AS n FROM messages WHERE text LIKE %s", "%4921%")
    assert found == [{"n": 0}]


def test_the_export_holds_the_callers_conversations_and_both_sides_of_their_messages(
    api: Api, owner: Caller, walker: Caller, conversation: dict[str, Any]
) -> None:
    mine = sent(api, owner, conversation["id"], "Hello")
    theirs = sent(api, walker, conversation["id"], "Hi!")

    answer = api.get("/v1/auth/me/export", token=owner.token)

    assert answer.status == 200, answer.body
    document = answer.json()
    (exported,) = document["conversations"]
    assert exported["id"] == conversation["id"] and exported["unread"] == 1 and exported["blocked_at"] is None
    assert exported["last_message_at"] == theirs["sent_at"]
    assert [(m["id"], m["sender_id"], m["text"], m["erased"]) for m in document["messages"]] == [
        (mine["id"], owner.id, "Hello", False), (theirs["id"], walker.id, "Hi!", False),
    ]  # fmt: skip
    assert [m["sent_at"] for m in document["messages"]] == [mine["sent_at"], theirs["sent_at"]]
