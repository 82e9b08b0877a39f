"""What API Gateway's WebSocket API does in front of the live view's functions, on one port: the
WebSocket at `/v1/ws` and the connection-management API the functions push through, so that
the handlers and `dogwalk.tracking.live` run unchanged.

- The upgrade request becomes the `$connect` event (headers, query string, a fresh connection
  id); an answer that is not 2xx refuses the upgrade with that status.
- Each frame is routed by the route selection expression `$request.body.action` to the route of
  that key (else `$default`, else API Gateway's `{"message": "Forbidden", ...}` back); the route's
  answer is not sent back (no route responses), its pushes are.
- The socket's end (either side) becomes `$disconnect`.
- `POST /@connections/{id}` sends its body to that socket, `GET` describes the connection,
  `DELETE` closes it; an unknown id is 410 GoneException, which boto3 raises as
  `GoneException`. Requests are signed by boto3; any signature is accepted.

Threading: the server runs on a thread and event loop of its own; functions are invoked on a
thread pool, never on the loop. A function invoked here holds `local.runtime`'s lock while it
pushes over HTTP back to this loop (a subscribe answering its caller), and a function invoked on
the HTTP gateway's threads pushes here too: the loop only moves frames, never waits for that
lock, so every push is answered. A push to a socket that does not take it within a few seconds
closes that socket (410) rather than stall every function behind the lock.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import sys
import threading
import time
import traceback
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSMsgType, web

from dogwalk import registry
from local import runtime
from local.services import ensure_port_free, serve_on_own_loop

STAGE = "v1"
PATH = f"/{STAGE}/ws"
# API Gateway's largest WebSocket message, and the largest post_to_connection payload
MAX_MESSAGE_BYTES = 128 * 1024
PUSH_TIMEOUT_S = 5.0
SHUTDOWN_TIMEOUT_S = 15.0


def connection_id() -> str:
    """An id shaped like API Gateway's (e.g. `BFaT_fALIAMCKug=`)."""
    return base64.urlsafe_b64encode(os.urandom(11)).decode()


def _request_id() -> str:
    return base64.urlsafe_b64encode(uuid.uuid4().bytes[:11]).decode()


def _iso(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Connection:
    id: str
    source_ip: str
    user_agent: str | None
    domain_name: str
    connected_at: float = field(default_factory=time.time)
    last_active_at: float = field(default_factory=time.time)
    socket: web.WebSocketResponse | None = None

    def context(self, route_key: str, event_type: str, **extra: Any) -> dict[str, Any]:
        """The event's `requestContext`, as API Gateway fills it for a WebSocket API."""
        now = datetime.now(UTC)
        request_id = _request_id()
        identity = {"sourceIp": self.source_ip}
        if self.user_agent:
            identity["userAgent"] = self.user_agent
        return {
            "routeKey": route_key,
            **extra,
            "eventType": event_type,
            "extendedRequestId": request_id,
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "messageDirection": "IN",
            "stage": STAGE,
            "connectedAt": int(self.connected_at * 1000),
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "identity": identity,
            "requestId": request_id,
            "domainName": self.domain_name,
            "connectionId": self.id,
            "apiId": "local",
        }


def connect_event(
    connection: Connection, headers: list[tuple[str, str]], query: list[tuple[str, str]]
) -> dict[str, Any]:
    multi_headers: dict[str, list[str]] = {}
    for name, value in headers:
        multi_headers.setdefault(name, []).append(value)
    multi_query: dict[str, list[str]] = {}
    for name, value in query:
        multi_query.setdefault(name, []).append(value)
    event: dict[str, Any] = {
        "headers": {name: values[-1] for name, values in multi_headers.items()},
        "multiValueHeaders": multi_headers,
    }
    if multi_query:  # API Gateway leaves both out when the URL has no query string
        event["queryStringParameters"] = {name: values[-1] for name, values in multi_query.items()}
        event["multiValueQueryStringParameters"] = multi_query
    event["requestContext"] = connection.context("$connect", "CONNECT")
    event["isBase64Encoded"] = False
    return event


def message_event(connection: Connection, route_key: str, body: str, *, binary: bool = False) -> dict[str, Any]:
    return {
        "requestContext": connection.context(route_key, "MESSAGE", messageId=_request_id()),
        "body": body,
        "isBase64Encoded": binary,
    }


def disconnect_event(connection: Connection, status_code: int, reason: str) -> dict[str, Any]:
    headers = {"Host": connection.domain_name, "x-api-key": "", "X-Forwarded-For": "", "x-restapi": ""}
    return {
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "requestContext": connection.context(
            "$disconnect", "DISCONNECT", disconnectStatusCode=status_code, disconnectReason=reason
        ),
        "isBase64Encoded": False,
    }


def route_key_of(body: str | None) -> str | None:
    """`$request.body.action`: the `action` of a JSON object body; None when it has none."""
    if body is None:
        return None
    try:
        document = json.loads(body)
    except ValueError:
        return None
    action = document.get("action") if isinstance(document, dict) else None
    return action if isinstance(action, str) and not action.startswith("$") else None


def _status_of(answer: Any) -> int:
    """A proxy integration's answer: its statusCode (an answer without one is a success)."""
    if isinstance(answer, dict) and "statusCode" in answer:
        return int(answer["statusCode"])
    return 200


def _aws_error(status: int, error_type: str, message: str) -> web.Response:
    """An error as the management API sends it: boto3 reads the type from `x-amzn-ErrorType`."""
    return web.json_response({"message": message}, status=status, headers={"x-amzn-ErrorType": error_type})


def _gone(connection_id: str) -> web.Response:
    return _aws_error(410, "GoneException", f"Connection {connection_id} is gone")


class WebSocketGateway:
    """The WebSocket API of the registry's `WEBSOCKET_ROUTES` on 127.0.0.1:`port`."""

    def __init__(self, port: int, routes: tuple[registry.WebSocketRoute, ...] = registry.WEBSOCKET_ROUTES):
        self.port = port
        self.routes = {route.route_key: route for route in routes}
        self.connections: dict[str, Connection] = {}  # touched only on the loop's thread
        self._executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="websocket-invoke")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}{PATH}"

    @property
    def management_url(self) -> str:
        """What `DOGWALK_WEBSOCKET_MANAGEMENT_URL` is set to: the functions push through it."""
        return f"http://127.0.0.1:{self.port}"

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_MESSAGE_BYTES)
        app.router.add_get(PATH, self._socket)
        for prefix in ("", "/{stage}"):  # with or without the stage, as the endpoint URL names it
            app.router.add_post(prefix + "/@connections/{connection_id}", self._post_to_connection)
            app.router.add_get(prefix + "/@connections/{connection_id}", self._get_connection)
            app.router.add_delete(prefix + "/@connections/{connection_id}", self._delete_connection)
        return app

    def start(self) -> str:
        ensure_port_free(self.port, "the WebSocket API", "DOGWALK_WS_PORT")

        async def boot() -> None:
            self._runner = web.AppRunner(self.app(), access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT_S)
            await self._runner.setup()
            await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

        self._loop, self._thread = serve_on_own_loop("websocket-api", boot)
        return self.url

    def stop(self) -> None:
        """Close every socket (each one's $disconnect runs), then the server."""
        if self._loop is None or self._runner is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(timeout=SHUTDOWN_TIMEOUT_S + 5)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._loop = self._runner = None

    async def _shutdown(self) -> None:
        sockets = [connection.socket for connection in self.connections.values() if connection.socket is not None]
        await asyncio.gather(*(socket.close(code=1001, message=b"Going away") for socket in sockets))
        if self._runner is not None:
            await self._runner.cleanup()

    async def _invoke(self, function: registry.Function, event: dict[str, Any]) -> Any:
        """Run the function on the pool: the loop stays free to serve the pushes it makes."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, runtime.invoke, function, event)

    async def _socket(self, request: web.Request) -> web.StreamResponse:
        socket = web.WebSocketResponse(max_msg_size=MAX_MESSAGE_BYTES)
        if not socket.can_prepare(request).ok:
            return web.Response(status=426, text="Upgrade Required", headers={"Upgrade": "websocket"})
        connection = Connection(connection_id(), request.remote or "", request.headers.get("User-Agent"), request.host)
        route = self.routes.get("$connect")
        if route is not None:
            event = connect_event(connection, list(request.headers.items()), list(request.query.items()))
            try:
                status = _status_of(await self._invoke(route, event))
            except Exception:
                traceback.print_exc(file=sys.stderr)
                status = 500
            if not 200 <= status < 300:
                return web.Response(status=status)
        await socket.prepare(request)
        connection.socket = socket
        self.connections[connection.id] = connection
        try:
            async for frame in socket:
                connection.last_active_at = time.time()
                if frame.type is WSMsgType.TEXT:
                    await self._message(connection, frame.data, binary=False)
                elif frame.type is WSMsgType.BINARY:
                    await self._message(connection, base64.b64encode(frame.data).decode(), binary=True)
        finally:
            # gone for pushes first: a push from now on meets 410, as it does in the cloud
            self.connections.pop(connection.id, None)
            await self._disconnected(connection, socket)
        return socket

    async def _message(self, connection: Connection, body: str, *, binary: bool) -> None:
        """One frame, to its route; one at a time per connection, in the order they came."""
        route = (None if binary else self.routes.get(route_key_of(body) or "")) or self.routes.get("$default")
        if route is None:
            await self._reply(connection, "Forbidden", _request_id())
            return
        event = message_event(connection, route.route_key, body, binary=binary)
        try:
            await self._invoke(route, event)
        except Exception:
            traceback.print_exc(file=sys.stderr)
            await self._reply(connection, "Internal server error", event["requestContext"]["requestId"])

    async def _reply(self, connection: Connection, message: str, request_id: str) -> None:
        """API Gateway's own answer to a frame it could not route or whose function failed."""
        payload = {"message": message, "connectionId": connection.id, "requestId": request_id}
        if connection.socket is not None and not connection.socket.closed:
            with contextlib.suppress(ConnectionError):
                await connection.socket.send_str(json.dumps(payload))

    async def _disconnected(self, connection: Connection, socket: web.WebSocketResponse) -> None:
        route = self.routes.get("$disconnect")
        if route is None:
            return
        code = socket.close_code or 1006
        reason = "Client-side close frame status not set" if code == 1005 else f"Connection closed ({code})"
        try:
            await self._invoke(route, disconnect_event(connection, code, reason))
        except Exception:  # API Gateway calls $disconnect best effort too
            traceback.print_exc(file=sys.stderr)

    def _known(self, request: web.Request) -> Connection | None:
        connection = self.connections.get(request.match_info["connection_id"])
        if connection is None or connection.socket is None or connection.socket.closed:
            return None
        return connection

    async def _post_to_connection(self, request: web.Request) -> web.Response:
        connection = self._known(request)
        if connection is None or connection.socket is None:
            return _gone(request.match_info["connection_id"])
        data = await request.read()
        if len(data) > MAX_MESSAGE_BYTES:
            return _aws_error(413, "PayloadTooLargeException", "The message is over 128 KB")
        socket = connection.socket
        try:
            sending = socket.send_str(data.decode())
        except UnicodeDecodeError:
            sending = socket.send_bytes(data)
        try:
            await asyncio.wait_for(sending, PUSH_TIMEOUT_S)
        except TimeoutError:  # a socket that does not read would hold every function up
            await socket.close(code=1011, message=b"Not reading")
            return _gone(connection.id)
        except (ConnectionError, RuntimeError):
            return _gone(connection.id)
        connection.last_active_at = time.time()
        return web.Response(status=200)

    async def _get_connection(self, request: web.Request) -> web.Response:
        connection = self._known(request)
        if connection is None:
            return _gone(request.match_info["connection_id"])
        identity = {"sourceIp": connection.source_ip, "userAgent": connection.user_agent or ""}
        described = {
            "connectedAt": _iso(connection.connected_at),
            "identity": identity,
            "lastActiveAt": _iso(connection.last_active_at),
        }
        return web.json_response(described)

    async def _delete_connection(self, request: web.Request) -> web.Response:
        connection = self._known(request)
        if connection is None or connection.socket is None:
            return _gone(request.match_info["connection_id"])
        await connection.socket.close(code=1000, message=b"Closed by the server")
        return web.Response(status=204)
