"""The local WebSocket API does what API Gateway's does in front of the functions: the events it
sends are the ones Powertools parses, `$connect` decides the upgrade, frames go to the route their
`action` names, the management API pushes, describes and closes, and an unknown connection is
410 Gone. Test-only functions stand in for the live view's."""

from __future__ import annotations

import json
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.parser.models import (
    APIGatewayWebSocketConnectEventModel,
    APIGatewayWebSocketDisconnectEventModel,
    APIGatewayWebSocketMessageEventModel,
)
from websockets.exceptions import ConnectionClosedOK, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from dogwalk.registry import WebSocketRoute
from local.services import free_port
from local.websocket import WebSocketGateway

Handler = Callable[[dict[str, Any], Any], Any]


class Functions:
    """What the test-only functions were invoked with, and the gateway they push through."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.management_url = ""

    def of(self, route_key: str) -> list[dict[str, Any]]:
        return [event for event in self.events if event["requestContext"]["routeKey"] == route_key]

    def connect(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self.events.append(event)
        return {"statusCode": 403 if (event.get("queryStringParameters") or {}).get("refuse") else 200}

    def echo(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        """Pushes the frame back while invoked (the runtime's lock held), as ws_subscribe does."""
        self.events.append(event)
        management = boto3.client("apigatewaymanagementapi", endpoint_url=self.management_url)
        management.post_to_connection(ConnectionId=event["requestContext"]["connectionId"], Data=event["body"].encode())
        return {"statusCode": 200, "body": "a route answer is not sent back"}

    def fail(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        raise RuntimeError("the function failed")

    def record(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self.events.append(event)
        return {"statusCode": 200}


@pytest.fixture
def functions() -> Functions:
    return Functions()


def gateway_with(
    monkeypatch: pytest.MonkeyPatch, functions: Functions, handlers: dict[str, Handler]
) -> Iterator[WebSocketGateway]:
    routes = []
    for route_key, handler in handlers.items():
        name = f"test_ws_{route_key.strip('$')}"
        monkeypatch.setitem(sys.modules, name, types.SimpleNamespace(lambda_handler=handler))
        routes.append(WebSocketRoute(name=name, route_key=route_key))
    gateway = WebSocketGateway(free_port(), tuple(routes))
    gateway.start()
    functions.management_url = gateway.management_url
    yield gateway
    gateway.stop()


@pytest.fixture
def gateway(monkeypatch: pytest.MonkeyPatch, functions: Functions) -> Iterator[WebSocketGateway]:
    handlers = {"$connect": functions.connect, "echo": functions.echo, "fail": functions.fail,
                "$disconnect": functions.record}  # fmt: skip
    yield from gateway_with(monkeypatch, functions, handlers)


def management(gateway: WebSocketGateway) -> Any:
    return boto3.client("apigatewaymanagementapi", endpoint_url=gateway.management_url)


def receive(socket: ClientConnection) -> Any:
    return json.loads(socket.recv(timeout=10))


def eventually(condition: Callable[[], bool], what: str, timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    pause = threading.Event()
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        pause.wait(0.05)


def test_the_events_are_api_gateways(gateway: WebSocketGateway, functions: Functions) -> None:
    with connect(f"{gateway.url}?token=abc&token=def", user_agent_header="DogWalk/1.0") as socket:
        socket.send(json.dumps({"action": "echo", "n": 1}))
        receive(socket)
    eventually(lambda: bool(functions.of("$disconnect")), "$disconnect")

    connected, message, disconnected = (
        functions.of("$connect")[0],
        functions.of("echo")[0],
        functions.of("$disconnect")[0],
    )
    APIGatewayWebSocketConnectEventModel.model_validate(connected)
    APIGatewayWebSocketMessageEventModel.model_validate(message)
    APIGatewayWebSocketDisconnectEventModel.model_validate(disconnected)
    assert connected["queryStringParameters"] == {"token": "def"}
    assert connected["multiValueQueryStringParameters"] == {"token": ["abc", "def"]}
    assert connected["headers"]["User-Agent"] == "DogWalk/1.0"
    assert message["body"] == json.dumps({"action": "echo", "n": 1})
    assert disconnected["requestContext"]["disconnectStatusCode"] == 1000
    ids = {event["requestContext"]["connectionId"] for event in (connected, message, disconnected)}
    assert len(ids) == 1
    assert len({event["requestContext"]["requestId"] for event in (connected, message, disconnected)}) == 3


def test_a_function_pushes_back_while_it_runs_and_its_answer_is_not_sent(gateway: WebSocketGateway) -> None:
    with connect(gateway.url) as socket:
        for n in range(3):
            socket.send(json.dumps({"action": "echo", "n": n}))

        # in order, and nothing else in between: no route answer after each push
        assert [receive(socket) for _ in range(3)] == [{"action": "echo", "n": n} for n in range(3)]


def test_connect_refusing_refuses_the_upgrade(gateway: WebSocketGateway, functions: Functions) -> None:
    with pytest.raises(InvalidStatus) as refused:
        connect(f"{gateway.url}?refuse=1")

    assert refused.value.response.status_code == 403
    assert gateway.connections == {}
    assert functions.of("$disconnect") == []


def test_frames_without_a_route_and_failed_functions_are_answered_as_api_gateway_does(
    gateway: WebSocketGateway,
) -> None:
    with connect(gateway.url) as socket:
        socket.send(json.dumps({"action": "dance"}))
        unrouted = receive(socket)
        socket.send("not json")
        not_json = receive(socket)
        socket.send(json.dumps({"action": "fail"}))
        failed = receive(socket)

    assert unrouted["message"] == not_json["message"] == "Forbidden"
    assert failed["message"] == "Internal server error"
    assert unrouted["connectionId"] == failed["connectionId"] and failed["requestId"]


def test_without_a_route_the_default_route_takes_the_frame(
    monkeypatch: pytest.MonkeyPatch, functions: Functions
) -> None:
    for gateway in gateway_with(monkeypatch, functions, {"$default": functions.echo}):
        with connect(gateway.url) as socket:
            socket.send("plain text")
            assert socket.recv(timeout=10) == "plain text"


def test_the_management_api_describes_pushes_and_closes(gateway: WebSocketGateway, functions: Functions) -> None:
    with connect(gateway.url, user_agent_header="DogWalk/1.0") as socket:
        connection_id = functions.of("$connect")[0]["requestContext"]["connectionId"]
        described = management(gateway).get_connection(ConnectionId=connection_id)
        management(gateway).post_to_connection(ConnectionId=connection_id, Data=b'{"type": "hello"}')
        assert receive(socket) == {"type": "hello"}

        closed = management(gateway).delete_connection(ConnectionId=connection_id)

        assert closed["ResponseMetadata"]["HTTPStatusCode"] == 204
        with pytest.raises(ConnectionClosedOK):
            socket.recv(timeout=10)
    assert described["Identity"] == {"SourceIp": "127.0.0.1", "UserAgent": "DogWalk/1.0"}
    assert described["ConnectedAt"] <= described["LastActiveAt"]
    eventually(lambda: bool(functions.of("$disconnect")), "$disconnect after DELETE")


def test_an_unknown_or_closed_connection_is_gone(gateway: WebSocketGateway, functions: Functions) -> None:
    with connect(gateway.url):
        connection_id = functions.of("$connect")[0]["requestContext"]["connectionId"]
    eventually(lambda: connection_id not in gateway.connections, "the socket's end")
    client = management(gateway)

    for call in (
        lambda: client.post_to_connection(ConnectionId=connection_id, Data=b"{}"),
        lambda: client.get_connection(ConnectionId=connection_id),
        lambda: client.delete_connection(ConnectionId="NeverWasHere12=="),
    ):
        with pytest.raises(client.exceptions.GoneException):
            call()


def test_a_request_that_is_not_an_upgrade_is_426(gateway: WebSocketGateway, functions: Functions) -> None:
    import urllib.error
    import urllib.request

    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.urlopen(gateway.url.replace("ws://", "http://"), timeout=10)  # noqa: S310 - loopback

    assert answer.value.code == 426
    assert functions.events == []


def test_stopping_closes_every_socket_and_each_one_disconnects(
    monkeypatch: pytest.MonkeyPatch, functions: Functions
) -> None:
    running = gateway_with(monkeypatch, functions, {"$connect": functions.connect, "$disconnect": functions.record})
    gateway = next(running)
    sockets = [connect(gateway.url), connect(gateway.url)]

    with pytest.raises(StopIteration):
        next(running)  # the fixture's teardown: stop()

    for socket in sockets:
        with pytest.raises(ConnectionClosedOK):
            socket.recv(timeout=10)
        assert socket.close_code == 1001
    assert len(functions.of("$disconnect")) == 2
