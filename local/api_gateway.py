"""An HTTP server that does what API Gateway's REST API does in front of the functions: match the
registered route, run the token authorizer for protected routes, turn the request into a
REST proxy event (version 1.0, as `sam local start-api` sends), invoke the handler and turn
its answer back into HTTP. It also serves `/openapi.json`, an offline `/docs` page, and the local
platform's own `/_local/...` routes (`local.local_routes`: the mailbox, the stand-in identity
providers), which are no endpoint of the registry: never deployed, never in the OpenAPI document."""

from __future__ import annotations

import base64
import json
import mimetypes
import re
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from dogwalk import registry
from dogwalk.edge.api import NO_STORE, PROBLEM_JSON, SECURITY_HEADERS, problem_body
from local import local_routes, runtime

if TYPE_CHECKING:
    from local.workers import WorkerPool

STAGE = "v1"
# API Gateway refuses payloads over 10 MB before any function runs
GATEWAY_MAX_BODY = 10 * 1024 * 1024
DOCS_HTML = """<!doctype html>
<html><head><meta charset="utf-8"><title>Dog Walking API</title>
<link rel="stylesheet" href="/docs/static/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="/docs/static/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: "/openapi.json", dom_id: "#ui"});</script>
</body></html>"""


class PathPattern:
    """An endpoint's path template as a regular expression, for matching request paths."""

    def __init__(self, endpoint: registry.Endpoint):
        self.endpoint = endpoint
        pattern = re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(endpoint.path))
        self.regex = re.compile(f"^{pattern}$")


Invoke = Callable[[registry.Function, dict[str, Any]], Any]
FUNCTIONS = f"{local_routes.PREFIX}functions"


class Gateway:
    """What the HTTP server serves: the registered endpoints and the local extras. Functions run in
    this process, one invocation at a time (`local.runtime`), or, given a `pool`, each concurrent
    invocation in a worker of its own (`local.workers`), where a function that fails answers 502 as
    API Gateway does; `GET /_local/functions` tells which, and how many workers each function has."""

    def __init__(self, endpoints: tuple[registry.Endpoint, ...] = registry.ENDPOINTS, pool: WorkerPool | None = None):
        self.pool = pool
        self.invoke: Invoke = pool.invoke if pool is not None else runtime.invoke
        # like API Gateway, a literal segment wins over a parameter: /v1/walkers/search before /v1/walkers/{id}
        self.routes = sorted(
            (PathPattern(endpoint) for endpoint in endpoints), key=lambda r: r.endpoint.path.count("{")
        )
        self._openapi: bytes | None = None

    def _resource(self, path: str) -> list[PathPattern]:
        """The routes of the resource `path` resolves to: like API Gateway, the most literal one
        (`/v1/bookings/quote` is not `/v1/bookings/{booking_id}`, whatever the method)."""
        matching = [route for route in self.routes if route.regex.match(path)]
        if not matching:
            return []
        fewest = min(route.endpoint.path.count("{") for route in matching)
        return [route for route in matching if route.endpoint.path.count("{") == fewest]

    def match(self, method: str, path: str) -> tuple[registry.Endpoint, dict[str, str]] | None:
        for route in self._resource(path):
            found = route.regex.match(path)
            if found and route.endpoint.method == method:
                return route.endpoint, {k: unquote(v) for k, v in found.groupdict().items()}
        return None

    def methods_of(self, path: str) -> list[str]:
        return sorted({route.endpoint.method for route in self._resource(path)})

    def openapi(self) -> bytes:
        if self._openapi is None:
            from local.openapi import openapi_document

            self._openapi = json.dumps(openapi_document()).encode()
        return self._openapi

    def handle(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes, source_ip: str) -> Reply:
        url = urlsplit(target)
        request_id = str(uuid.uuid4())
        if method == "GET" and url.path == "/openapi.json":
            return Reply(200, [("Content-Type", "application/json")], self.openapi())
        if method == "GET" and url.path in ("/docs", "/docs/"):
            return Reply(200, [("Content-Type", "text/html; charset=utf-8")], DOCS_HTML.encode())
        if method == "GET" and url.path.startswith("/docs/static/"):
            return _static(url.path.removeprefix("/docs/static/"))
        if method == "GET" and url.path == FUNCTIONS:
            workers = self.pool.warm() if self.pool is not None else {}
            answer = {"mode": "workers" if self.pool is not None else "serial", "workers": workers}
            return Reply(200, [("Content-Type", "application/json"), *NO_STORE.items()], json.dumps(answer).encode())
        if url.path.startswith(local_routes.PREFIX):
            status, content_type, answer = local_routes.answer(method, url.path, url.query, body)
            headers = [("Content-Type", content_type), ("X-Request-Id", request_id), *NO_STORE.items()]
            return Reply(status, headers, json.dumps(answer).encode())
        matched = self.match(method, url.path)
        if matched is None:
            allowed = self.methods_of(url.path)
            if allowed:
                reply = _gateway_problem(405, "method_not_allowed", f"Use {', '.join(allowed)}.", request_id)
                reply.headers.append(("Allow", ", ".join(allowed)))
                return reply
            return _gateway_problem(404, "not_found", "No such resource.", request_id)
        endpoint, path_parameters = matched
        if len(body) > GATEWAY_MAX_BODY:
            return _gateway_problem(413, "payload_too_large", "The request body is too large.", request_id)
        authorizer: dict[str, Any] | None = None
        if not endpoint.public:
            authorizer = _authorize(headers, endpoint, self.invoke)
            if authorizer is None:
                return _gateway_problem(401, "unauthorized", "A valid bearer token is required.", request_id)
        event = rest_event(method, url.path, url.query, headers, body, endpoint, path_parameters, source_ip, request_id)
        if authorizer is not None:
            event["requestContext"]["authorizer"] = authorizer
        if self.pool is None:  # a debugger sees the handler's exception where it is raised
            return Reply.from_proxy_result(runtime.invoke(endpoint, event))
        from local.workers import FunctionError, FunctionTimeout

        try:
            result = self.invoke(endpoint, event)
        except (FunctionError, FunctionTimeout, EOFError, OSError) as exc:
            # the function failed: its traceback in its log (here the platform's console), API Gateway's 502
            print(f"{endpoint.name}: {getattr(exc, 'trace', None) or exc!r}", file=sys.stderr, flush=True)
            return _gateway_problem(502, "internal_error", "The function failed.", request_id)
        return Reply.from_proxy_result(result)


class Reply:
    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes):
        self.status, self.headers, self.body = status, headers, body

    @classmethod
    def from_proxy_result(cls, result: dict[str, Any]) -> Reply:
        headers: list[tuple[str, str]] = [(k, str(v)) for k, v in (result.get("headers") or {}).items()]
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers += [(name, str(v)) for v in values if (name, str(v)) not in headers]
        raw = result.get("body") or ""
        body = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode()
        return cls(int(result.get("statusCode", 200)), headers, body)


def _gateway_problem(status: int, code: str, detail: str, request_id: str) -> Reply:
    """What API Gateway answers by itself, with the headers its gateway responses carry (infra/api.py)."""
    body = json.dumps(problem_body(status, code, detail, request_id)).encode()
    headers = [
        ("Content-Type", PROBLEM_JSON),
        ("X-Request-Id", request_id),
        *SECURITY_HEADERS.items(),
        *NO_STORE.items(),
    ]
    return Reply(status, headers, body)


def _static(name: str) -> Reply:
    import swagger_ui_bundle

    folder = Path(swagger_ui_bundle.swagger_ui_path).resolve()
    file = (folder / name).resolve()
    if folder not in file.parents or not file.is_file():
        return Reply(404, [("Content-Type", "text/plain")], b"not found")
    kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    return Reply(200, [("Content-Type", kind), ("Cache-Control", "max-age=3600")], file.read_bytes())


def _header(headers: list[tuple[str, str]], name: str) -> str | None:
    for key, value in headers:
        if key.lower() == name.lower():
            return value
    return None


def _authorize(headers: list[tuple[str, str]], endpoint: registry.Endpoint, invoke: Invoke) -> dict[str, Any] | None:
    """Run the token authorizer as API Gateway would; its context, or None for a 401."""
    token = _header(headers, "Authorization")
    if not token:
        return None
    event = {
        "type": "TOKEN",
        "authorizationToken": token,
        "methodArn": f"arn:aws:execute-api:us-east-1:000000000000:local/{STAGE}/{endpoint.method}{endpoint.path}",
    }
    started = time.monotonic()
    try:
        answer = invoke(registry.AUTHORIZER, event)
    except Exception:  # the authorizer refuses by raising "Unauthorized", as API Gateway expects
        return None
    statement = answer["policyDocument"]["Statement"][0]
    if statement["Effect"] != "Allow":
        return None
    return {
        **answer.get("context", {}),
        "principalId": answer["principalId"],
        "integrationLatency": int((time.monotonic() - started) * 1000),
    }


def rest_event(
    method: str,
    path: str,
    query: str,
    headers: list[tuple[str, str]],
    body: bytes,
    endpoint: registry.Endpoint,
    path_parameters: dict[str, str],
    source_ip: str,
    request_id: str,
) -> dict[str, Any]:
    """An API Gateway REST proxy event (payload version 1.0)."""
    multi_headers: dict[str, list[str]] = {}
    for key, value in headers:
        multi_headers.setdefault(key, []).append(value)
    multi_query = parse_qs(query, keep_blank_values=True) if query else {}
    now = datetime.now(UTC)
    try:
        text: str | None = body.decode() if body else None
        encoded = False
    except UnicodeDecodeError:
        text, encoded = base64.b64encode(body).decode(), True
    return {
        "resource": endpoint.path,
        "path": path,
        "httpMethod": method,
        "headers": {k: v[-1] for k, v in multi_headers.items()} or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": "127.0.0.1",
            "extendedRequestId": request_id,
            "httpMethod": method,
            "identity": {"sourceIp": source_ip, "userAgent": _header(headers, "User-Agent")},
            "path": f"/{STAGE}{path}",
            "protocol": "HTTP/1.1",
            "requestId": request_id,
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "resourceId": "local",
            "resourcePath": endpoint.path,
            "stage": STAGE,
        },
        "body": text,
        "isBase64Encoded": encoded,
    }


def serve(gateway: Gateway, port: int) -> ThreadingHTTPServer:
    """A started HTTP server on 127.0.0.1:`port` (call `serve_forever` on it). It names itself the
    local identity providers' issuer (`DOGWALK_OIDC_LOCAL_ISSUER`, unless set), so that the functions
    it invokes trust the ID tokens its `/_local/oidc` routes sign, and read their keys from it."""
    import os

    from dogwalk.config import environment_names, settings

    os.environ.setdefault(environment_names()["oidc_local_issuer"], f"http://127.0.0.1:{port}{local_routes.OIDC}")
    settings.cache_clear()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "dogwalk-local"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            reply = gateway.handle(self.command, self.path, list(self.headers.items()), body, self.client_address[0])
            self.send_response(reply.status)
            for key, value in reply.headers:
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(reply.body)

        def __getattr__(self, name: str) -> Any:  # every method reaches the gateway, which answers 405
            if name.startswith("do_"):
                return self._serve
            raise AttributeError(name)

        def log_message(self, format: str, *args: Any) -> None:  # the functions log as JSON already
            pass

    server = _Server(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    return server


class _Server(ThreadingHTTPServer):
    # the listen backlog: socketserver's 5 resets the sixth of a burst of connections, API Gateway takes them all
    request_queue_size = 1024
