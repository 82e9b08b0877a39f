"""`make browser`: the walker's payouts onboarding, once, in a real browser. Starts the local platform
(`python -m local run` on free ports, data in a temporary folder), registers a walker, asks
`POST /v1/walkers/me/payouts/onboarding` for the link, opens it in headless Chromium (Debian's
`chromium` package, driven through its DevTools protocol: no browser download), saves a
screenshot of the gateway's onboarding page, presses "Complete onboarding", and waits until the
gateway's signed `account.updated` has made `GET /v1/walkers/me/payouts/account` say `enabled`.

    python -m local.browser_check [--out docs/connect-onboarding.png] [--chromium /usr/bin/chromium]

Not part of `make test`: it needs `apt-get install -y chromium`.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from local.services import free_port

ROOT = Path(__file__).resolve().parent.parent
PORTS = ("HTTP", "MQTT", "PG", "REDIS", "MOTO", "STRIPE", "WS")
# what Chromium needs in a container, and nothing that reaches beyond this machine
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",  # the app's return_url goes nowhere
    "--hide-scrollbars",
    "--window-size=900,1000",
)


def _http(method: str, url: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - loopback only
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310  # nosec B310
            raw = answer.read()
            return answer.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def _wait_until(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline, pause = time.monotonic() + timeout_s, threading.Event()
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except OSError:
            pass
        pause.wait(0.2)
    raise TimeoutError(f"timed out after {timeout_s:.0f} s waiting for {what}")


@contextmanager
def local_platform(data_dir: Path) -> Iterator[str]:
    """`python -m local run` on free ports with its own data; its HTTP base URL."""
    own = ("DATABASE_URL", "REDIS_URL", "MQTT_URL", "AWS_ENDPOINT_URL", "DOGWALK_STRIPE_API_BASE")
    env = {name: value for name, value in os.environ.items() if name not in own}
    env.update({f"DOGWALK_{name}_PORT": str(free_port()) for name in PORTS})
    env.update(DOGWALK_DATA_DIR=str(data_dir), PYTHONUNBUFFERED="1")
    base = f"http://127.0.0.1:{env['DOGWALK_HTTP_PORT']}"
    log_path = data_dir.with_suffix(".log")
    with log_path.open("w") as log:
        process = subprocess.Popen(  # nosec B603 - our own interpreter and module
            [sys.executable, "-m", "local", "run"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        try:
            _wait_until(lambda: process.poll() is not None or _http("GET", base + "/v1/health")[0] == 200, 120,
                        "the local platform")  # fmt: skip
        except TimeoutError:
            raise RuntimeError(log_path.read_text()) from None
        if process.poll() is not None:
            raise RuntimeError(f"the local platform exited:\n{log_path.read_text()}")
        yield base
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()


class DevTools:
    """A page of a headless Chromium, spoken to over its DevTools protocol (JSON over a WebSocket)."""

    def __init__(self, chromium: str, profile: Path) -> None:
        port = free_port()
        self.process = subprocess.Popen(  # noqa: S603  # nosec B603 - the chromium binary, our flags
            [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--remote-debugging-port={port}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        targets: list[dict[str, Any]] = []

        def listed() -> bool:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=2) as answer:  # nosec B310
                targets[:] = [target for target in json.loads(answer.read()) if target.get("type") == "page"]
            return bool(targets)

        _wait_until(lambda: self.process.poll() is not None or listed(), 30, "Chromium's DevTools")
        if not targets:
            raise RuntimeError(f"Chromium exited with {self.process.returncode}")
        from websockets.sync.client import connect

        self.socket = connect(targets[0]["webSocketDebuggerUrl"], max_size=64 * 1024 * 1024)
        self.ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        number = next(self.ids)
        self.socket.send(json.dumps({"id": number, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=30))
            if message.get("id") == number:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result
            self.events.append(message)

    def wait_for_event(self, method: str, timeout_s: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while True:
            for index, event in enumerate(self.events):
                if event.get("method") == method:
                    return self.events.pop(index)
            message = json.loads(self.socket.recv(timeout=max(0.1, deadline - time.monotonic())))
            self.events.append(message)

    def open(self, url: str) -> None:
        self.call("Page.enable")
        self.call("Emulation.setDeviceMetricsOverride", width=900, height=1000, deviceScaleFactor=1, mobile=False)
        self.events.clear()
        self.call("Page.navigate", url=url)
        self.wait_for_event("Page.loadEventFired")

    def screenshot(self, path: Path) -> None:
        shot = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=False)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))

    def evaluate(self, expression: str) -> Any:
        return self.call("Runtime.evaluate", expression=expression, returnByValue=True).get("result", {}).get("value")

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, OSError, TimeoutError):  # gone already: stopped below
            self.call("Browser.close")
        self.socket.close()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def check(out: Path, chromium: str) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory(prefix="dogwalk-browser-") as scratch,
        local_platform(Path(scratch) / "data") as base,
    ):
        tag = uuid.uuid4().hex[:8]
        walker = {"email": f"walker-{tag}@dogwalk.local", "password": f"browser-check-{tag}-walks", "role": "walker",
                  "name": "Browser Check"}  # fmt: skip
        status, tokens = _http("POST", base + "/v1/auth/register", walker)
        if status != 201:
            raise RuntimeError(f"registering a walker answered {status}: {tokens}")
        token = tokens["access_token"]
        status, link = _http("POST", base + "/v1/walkers/me/payouts/onboarding", token=token)
        if status != 200:
            raise RuntimeError(f"onboarding answered {status}: {link}")
        browser = DevTools(chromium, Path(scratch) / "chromium-profile")
        try:
            browser.open(link["url"])
            title = browser.evaluate("document.title")
            if not re.match(r"Onboarding · acct_", str(title)):
                raise RuntimeError(f"not the onboarding page: {title!r}")
            browser.screenshot(out)
            browser.evaluate("document.querySelector('button[value=complete]').click()")

            def enabled() -> bool:
                return _http("GET", base + "/v1/walkers/me/payouts/account", token=token)[1]["status"] == "enabled"

            _wait_until(enabled, 30, "the account.updated event to enable the walker's payouts")
        finally:
            browser.close()
        return {"screenshot": str(out), "page": title, "account": _http("GET", base + "/v1/walkers/me/payouts/account",
                                                                         token=token)[1]}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m local.browser_check", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "connect-onboarding.png")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = parser.parse_args()
    if not Path(args.chromium).exists():
        print(f"no Chromium at {args.chromium}: apt-get install -y chromium (Debian's package)", file=sys.stderr)
        return 2
    outcome = check(args.out.resolve(), args.chromium)
    print(json.dumps(outcome, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
