"""Messages live against `make run`: both parties hold a WebSocket open (no walk subscribed) while
the other sends over HTTP; the recipient's socket gets `{"type": "message", ...}` with the message
as the HTTP API answered it, and the sender's own socket gets nothing of its own message."""

from __future__ import annotations

import json
from collections.abc import Callable

import psycopg
from websockets.sync.client import connect

from tests.e2e.conftest import RunningPlatform, http


def bookable(platform: RunningPlatform, walker_id: str) -> None:
    """A verified walker profile, written straight into the platform's database (verification has
    its own tests)."""
    with psycopg.connect(platform.database_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO walker_profiles (user_id, price_cents_per_30min, lat, lon, radius_km, max_dogs,"
            " accepted_sizes, timezone, verification) VALUES (%s, 2000, 40.756, -73.986, 5, 2, '{small}',"
            " 'America/New_York', 'verified')",
            (walker_id,),
        )


def test_a_connected_recipient_gets_the_message_the_other_party_sends(
    platform: RunningPlatform, seeded_token: Callable[[str], tuple[str, str]]
) -> None:
    owner_id, owner_token = seeded_token("owner")
    walker_id, walker_token = seeded_token("walker")
    bookable(platform, walker_id)
    started = http("POST", f"{platform.base}/v1/conversations", {"walker_id": walker_id}, token=owner_token)
    assert started.status == 201, started.body
    conversation_id = started.json()["id"]
    path = f"{platform.base}/v1/conversations/{conversation_id}/messages"

    with (
        connect(f"{platform.websocket_url}?token={walker_token}", open_timeout=10) as walker_socket,
        connect(f"{platform.websocket_url}?token={owner_token}", open_timeout=10) as owner_socket,
    ):
        asked = http("POST", path, {"text": "Can you take Rex at 10?"}, token=owner_token)
        assert asked.status == 201, asked.body
        assert json.loads(walker_socket.recv(timeout=10)) == {
            "type": "message", "conversation_id": conversation_id, "message": asked.json(),
        }  # fmt: skip

        answered = http("POST", path, {"text": "Yes, see you then"}, token=walker_token)
        assert answered.status == 201, answered.body
        # the owner's first push is the walker's answer: its own message was not sent back to it
        assert json.loads(owner_socket.recv(timeout=10)) == {
            "type": "message", "conversation_id": conversation_id, "message": answered.json(),
        }  # fmt: skip
        assert answered.json()["sender_id"] == walker_id and asked.json()["sender_id"] == owner_id
