"""Where the test session's gateway (localstripe) sends its signed events: a small HTTP server on
127.0.0.1 that answers 200 and keeps each delivery (path, Stripe-Signature, raw body) as it came.

The integration tests call the handlers in-process, so a test that needs one of the gateway's real
events takes it from here and delivers it to the handler itself, body and signature unchanged."""

from __future__ import annotations

import json
import threading
from collections.abc import Collection
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PLATFORM_PATH = "/platform"
CONNECT_PATH = "/connect"
# what the integration tests' payments secret holds (tests/integration/conftest.py)
PLATFORM_SECRET = "whsec_tests"
CONNECT_SECRET = "whsec_connect_tests"


@dataclass(frozen=True)
class Delivery:
    path: str
    signature: str
    payload: str

    @property
    def event(self) -> dict[str, Any]:
        return dict(json.loads(self.payload))


class GatewayEvents:
    """The receiver; `wait_for` blocks on a condition (no sleeping) until a delivery arrives."""

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self.changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                payload = self.rfile.read(int(self.headers["Content-Length"])).decode()
                self.send_response(200)
                self.end_headers()
                with receiver.changed:
                    receiver.deliveries.append(Delivery(self.path, self.headers["Stripe-Signature"] or "", payload))
                    receiver.changed.notify_all()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, name="gateway-events", daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def wait_for(
        self, path: str, kind: str, about: str, *, besides: Collection[str] = (), timeout_s: float = 15
    ) -> Delivery:
        """The latest delivery to `path` of a `kind` event about the object `about`, other than the
        events `besides` (ids)."""

        def found() -> Delivery | None:
            for delivery in reversed(self.deliveries):
                event = delivery.event
                if (delivery.path, event["type"], event["data"]["object"].get("id")) == (path, kind, about) and (
                    event["id"] not in besides
                ):
                    return delivery
            return None

        with self.changed:
            self.changed.wait_for(lambda: found() is not None, timeout_s)
            delivery = found()
        assert delivery is not None, f"no {kind} event about {about} was sent to {path}"
        return delivery

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
