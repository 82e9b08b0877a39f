"""localstripe, run our way: on 127.0.0.1 only, with its state in memory or in a file of ours.

Upstream binds every interface and pickles its whole store to /tmp/localstripe.pickle on every
change — one file for every instance on the machine, so parallel instances (test sessions, the
e2e platforms) corrupt each other. Here each instance keeps its state where `--state` says (the
local platform: `.local/localstripe.pickle`, written atomically), or only in memory.

Upstream also ignores `Idempotency-Key`, on which the platform's promise never to charge twice
rests; here a POST with a key answers as Stripe does: the first answer replayed for the same
request, 400 `idempotency_error` for another request with that key, 409 while the first runs
(keys kept in memory for the life of the process; Stripe keeps them 24 hours).

It sends the platform's events to `--webhook URL`, signed as Stripe signs them with the secret in
the environment variable LOCALSTRIPE_WEBHOOK_SECRET, and Connect events (`account.updated`, with
their `account`) to `--connect-webhook URL`, signed with LOCALSTRIPE_CONNECT_WEBHOOK_SECRET, each
`--webhook-delay` seconds (1) after the change. Connect (accounts, account links and their
onboarding page, transfers), disputes, the expiry of uncaptured holds and the movable clock are
`local.stripe_connect`'s, wired here.

    python -m local.localstripe_server --port 8420 [--state FILE] [--webhook URL]
        [--connect-webhook URL] [--webhook-delay SECONDS]
"""

from __future__ import annotations

import argparse
import os
import pickle  # nosec B403 - our own file, written by this process
import socket
from pathlib import Path
from typing import Any

from aiohttp import web
from localstripe import resources, server, webhooks

from local import stripe_connect

_RUNNING = object()
_answers: dict[tuple[str, str], object] = {}


def _stripe_error(status: int, kind: str, message: str) -> web.Response:
    return web.json_response({"error": {"type": kind, "message": message}}, status=status)


@web.middleware
async def idempotency(request: web.Request, handler: Any) -> web.StreamResponse:
    key = request.headers.get("Idempotency-Key")
    if request.method != "POST" or not key:
        return await handler(request)
    scope = (server.get_api_key(request) or "", key)
    fingerprint = (request.path, await request.read())
    stored = _answers.get(scope)
    if stored is _RUNNING:
        return _stripe_error(409, "idempotency_error", "A request with this key is in progress.")
    if isinstance(stored, tuple):
        seen, status, body = stored
        if seen != fingerprint:
            return _stripe_error(400, "idempotency_error", "Keys for idempotent requests can only be used with "
                                 "the same parameters they were first used with.")  # fmt: skip
        answer = web.Response(status=status, body=body, content_type="application/json")
        answer.headers["Idempotent-Replayed"] = "true"
        return answer
    _answers[scope] = _RUNNING
    try:
        response = await handler(request)
    except BaseException:  # refused before it ran (Stripe keeps no result either) or an error to replay
        del _answers[scope]
        raise
    if isinstance(response, web.Response) and response.body is not None and response.status < 500:
        _answers[scope] = (fingerprint, response.status, bytes(response.body))  # type: ignore[arg-type]
    else:
        del _answers[scope]
    return response


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m local.localstripe_server")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state", type=Path, default=None)
    parser.add_argument("--webhook", default=None, help="where to POST payment events")
    parser.add_argument("--connect-webhook", default=None, help="where to POST Connect events (account.updated)")
    parser.add_argument("--webhook-delay", type=float, default=1.0, help="seconds between a change and its event")
    args = parser.parse_args()
    state: Path | None = args.state

    def load(store: resources.Store) -> None:
        if state is not None and state.exists():
            with state.open("rb") as file:
                store.update(pickle.load(file))  # noqa: S301  # nosec B301 - written by this process

    def dump(store: resources.Store) -> None:
        if state is None:
            return
        partial = state.with_suffix(".tmp")
        with partial.open("wb") as file:
            pickle.dump(dict(store), file, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(partial, state)

    resources.Store.try_load_from_disk = load
    resources.Store.dump_to_disk = dump
    resources.store.try_load_from_disk()
    server.app.middlewares.append(idempotency)
    connect = (args.connect_webhook, os.environ["LOCALSTRIPE_CONNECT_WEBHOOK_SECRET"]) if args.connect_webhook else None
    stripe_connect.install(server.app, base_url=f"http://127.0.0.1:{args.port}", connect_webhook=connect,
                           delay_s=args.webhook_delay)  # fmt: skip
    if args.webhook:
        events = list(stripe_connect.PLATFORM_EVENTS)
        webhooks.register_webhook("platform", args.webhook, os.environ["LOCALSTRIPE_WEBHOOK_SECRET"], events)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", args.port))
    web.run_app(server.app, sock=listener, print=None, access_log=None)


if __name__ == "__main__":
    main()
