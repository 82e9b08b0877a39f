"""The live view through a real WebSocket: the local WebSocket API (`local.websocket`) on a free
port invokes ws_connect / ws_subscribe / ws_disconnect, and the functions push through its
management endpoint, as they push through API Gateway's in the cloud."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from dogwalk.adapters import cache
from dogwalk.tracking import ingest, live
from local.websocket import WebSocketGateway
from tests.conftest import Dependencies
from tests.integration.conftest import Api
from tests.integration.marketplace.conftest import Caller, new_caller
from tests.integration.tracking.conftest import Walk


@pytest.fixture
def websocket(monkeypatch: pytest.MonkeyPatch, state: Dependencies) -> Iterator[WebSocketGateway]:
    """The local WebSocket API, and the functions pointed at its management endpoint."""
    from dogwalk.config import settings
    from local.services import free_port

    gateway = WebSocketGateway(free_port())
    gateway.start()
    monkeypatch.setenv("DOGWALK_WEBSOCKET_MANAGEMENT_URL", gateway.management_url)
    settings.cache_clear()  # read once per container: this test's endpoint from now on
    yield gateway
    gateway.stop()
    settings.cache_clear()


def watcher(gateway: WebSocketGateway, token: str) -> ClientConnection:
    return connect(f"{gateway.url}?token={token}", open_timeout=10)


def receive(socket: ClientConnection) -> dict[str, Any]:
    return json.loads(socket.recv(timeout=10))


def subscribe(socket: ClientConnection, walk_id: str) -> dict[str, Any]:
    socket.send(json.dumps({"action": "subscribe", "walk_id": walk_id}))
    return receive(socket)


def locations(start: int, count: int) -> list[dict[str, Any]]:
    """OwnTracks points 5 s apart, walking north along Broadway."""
    return [{"_type": "location", "lat": 40.7560 + i * 0.000063, "lon": -73.9860, "tst": start + 5 * i, "acc": 5}
            for i in range(count)]  # fmt: skip


def position(walk_id: str, point: dict[str, Any]) -> dict[str, Any]:
    return {"type": "position", "walk_id": walk_id, "lat": point["lat"], "lon": point["lon"], "tst": point["tst"]}


def post_points(api: Api, walk: Walk, points: list[dict[str, Any]]) -> None:
    answer = api.post(f"/v1/walks/{walk.id}/locations", json_body={"_type": "batch", "points": points},
                      token=walk.walker.token)  # fmt: skip
    assert answer.status == 202, answer.body


def eventually(condition: Callable[[], bool], what: str, timeout_s: float = 10) -> None:
    """For what another thread does after the client is done (the server's $disconnect)."""
    deadline = time.monotonic() + timeout_s
    pause = threading.Event()
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        pause.wait(0.05)


def test_the_owner_sees_positions_in_time_order_as_they_are_ingested(
    api: Api, walk: Walk, websocket: WebSocketGateway
) -> None:
    points = locations(int(time.time()) - 30, 4)

    with watcher(websocket, walk.owner.token) as socket:
        assert subscribe(socket, walk.id) == {"type": "subscribed", "walk_id": walk.id}
        post_points(api, walk, list(reversed(points)))  # a phone's buffer, newest first

        assert [receive(socket) for _ in points] == [position(walk.id, point) for point in points]


def test_events_are_pushed_with_the_positions(walk: Walk, websocket: WebSocketGateway) -> None:
    now = int(time.time())
    point = ingest.points_of(locations(now - 10, 1)[0])
    pee = ingest.event_of({"type": "pee", "tst": now - 5, "lat": 40.7561, "lon": -73.9860})

    with watcher(websocket, walk.owner.token) as socket:
        subscribe(socket, walk.id)
        outcome = ingest.ingest(walk.id, point, [pee])
        assert outcome is not None
        assert live.publish(walk.id, ingest.live_messages(outcome)) == 2

        assert receive(socket)["type"] == "position"
        assert receive(socket) == {"type": "event", "walk_id": walk.id, "event": "pee", "lat": 40.7561,
                                   "lon": -73.9860, "tst": now - 5, "note": None, "photo_id": None}  # fmt: skip


def test_a_late_subscriber_sees_where_the_dog_is(api: Api, walk: Walk, websocket: WebSocketGateway) -> None:
    points = locations(int(time.time()) - 30, 3)
    post_points(api, walk, points)

    with watcher(websocket, walk.walker.token) as socket:
        assert subscribe(socket, walk.id) == {"type": "subscribed", "walk_id": walk.id}
        assert receive(socket) == position(walk.id, points[-1])


def test_an_admin_may_watch_any_walk(walk: Walk, admin: Caller, websocket: WebSocketGateway) -> None:
    with watcher(websocket, admin.token) as socket:
        assert subscribe(socket, walk.id) == {"type": "subscribed", "walk_id": walk.id}


def test_a_stranger_is_told_there_is_no_such_walk_and_sent_nothing(
    api: Api, state: Dependencies, walk: Walk, websocket: WebSocketGateway
) -> None:
    stranger = new_caller(state, "owner")

    with watcher(websocket, stranger.token) as intruder, watcher(websocket, walk.owner.token) as owner:
        refused = subscribe(intruder, walk.id)
        assert subscribe(owner, walk.id)["type"] == "subscribed"
        post_points(api, walk, locations(int(time.time()) - 10, 1))
        assert receive(owner)["type"] == "position"  # the push went out...

        # ...and the next thing the stranger hears is the answer to its next message: nothing between
        intruder.send(json.dumps({"action": "subscribe", "walk_id": "not-a-uuid"}))
        malformed = receive(intruder)

    assert refused == {"type": "error", "code": "not_found", "detail": "No such walk."}
    assert subscribe_error_for_unknown_walk(websocket, stranger) == refused
    assert malformed["type"] == "error" and malformed["code"] == "validation_error"
    assert malformed["errors"][0]["loc"] == ["body", "walk_id"]


def subscribe_error_for_unknown_walk(gateway: WebSocketGateway, caller: Caller) -> dict[str, Any]:
    """What a walk that does not exist answers: the same as someone else's walk."""
    with watcher(gateway, caller.token) as socket:
        return subscribe(socket, "00000000-0000-4000-8000-000000000000")


def test_a_bad_token_cannot_connect(api: Api, state: Dependencies, admin: Caller, websocket: WebSocketGateway) -> None:
    from dogwalk.auth.tokens import issue_access_token

    user = new_caller(state, "owner")
    expired = issue_access_token(user.id, "owner", now=time.time() - 3600)[0]
    suspended = new_caller(state, "owner")
    assert api.post(f"/v1/admin/users/{suspended.id}/suspend", token=admin.token).status == 204

    refusals = {}
    for name, url in {
        "no token": websocket.url,
        "garbage": f"{websocket.url}?token=not-a-token",
        "expired": f"{websocket.url}?token={expired}",
        "suspended": f"{websocket.url}?token={suspended.token}",
    }.items():
        with pytest.raises(InvalidStatus) as refused:
            connect(url, open_timeout=10)
        refusals[name] = refused.value.response.status_code

    assert refusals == {"no token": 401, "garbage": 401, "expired": 401, "suspended": 403}
    assert cache.client().keys("ws:*") == []


def test_a_connection_that_went_away_is_forgotten_on_the_next_push(walk: Walk, websocket: WebSocketGateway) -> None:
    # a connection API Gateway dropped without calling $disconnect (or a restarted local platform)
    live.connect("GoneGoneGone123=", walk.owner.id, "owner")
    live.subscribe("GoneGoneGone123=", walk.id)

    with watcher(websocket, walk.owner.token) as socket:
        subscribe(socket, walk.id)
        outcome = ingest.ingest(walk.id, ingest.points_of(locations(int(time.time()) - 10, 1)[0]))
        assert outcome is not None

        delivered = live.publish(walk.id, ingest.live_messages(outcome))

        assert delivered == 1
        assert receive(socket)["type"] == "position"
        assert "GoneGoneGone123=" not in live.subscribers(walk.id)
        assert live.connection("GoneGoneGone123=") is None


def test_watchers_are_told_when_the_walk_completes(api: Api, walk: Walk, websocket: WebSocketGateway) -> None:
    with watcher(websocket, walk.owner.token) as socket:
        subscribe(socket, walk.id)

        answer = api.post(f"/v1/bookings/{walk.booking_id}/complete", token=walk.walker.token)

        assert answer.status == 200, answer.body
        assert receive(socket) == {"type": "walk_completed", "walk_id": walk.id}

    with watcher(websocket, walk.owner.token) as late:
        assert subscribe(late, walk.id) == {"type": "subscribed", "walk_id": walk.id}
        assert receive(late) == {"type": "walk_completed", "walk_id": walk.id}


def test_closing_the_socket_forgets_the_connection(walk: Walk, websocket: WebSocketGateway) -> None:
    with watcher(websocket, walk.owner.token) as socket:
        subscribe(socket, walk.id)
        assert len(live.subscribers(walk.id)) == 1

    eventually(lambda: not live.subscribers(walk.id) and not cache.client().keys("ws:conn:*"), "$disconnect")


def test_nothing_is_pushed_without_a_management_endpoint(
    walk: Walk, monkeypatch: pytest.MonkeyPatch, websocket: WebSocketGateway
) -> None:
    from dogwalk.config import settings

    with watcher(websocket, walk.owner.token) as socket:
        subscribe(socket, walk.id)
        monkeypatch.setenv("DOGWALK_WEBSOCKET_MANAGEMENT_URL", "")
        settings.cache_clear()

        assert live.publish(walk.id, [{"type": "walk_completed", "walk_id": walk.id}]) == 0


def test_watched_names_only_the_walks_someone_watches_and_never_raises(
    walk: Walk, websocket: WebSocketGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    import redis

    unwatched = "00000000-0000-4000-8000-000000000002"
    with watcher(websocket, walk.owner.token) as socket:
        subscribe(socket, walk.id)

        found = live.watched([walk.id, unwatched])

        assert list(found) == [walk.id] and found[walk.id] == live.subscribers(walk.id)

        def down() -> None:
            raise redis.exceptions.ConnectionError("Redis is down")

        monkeypatch.setattr(cache, "client", down)
        assert live.watched([walk.id]) == {}  # nothing pushed; the ingest goes on
