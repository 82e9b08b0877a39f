"""End-to-end: the local platform (`python -m local run`) as a subprocess on free ports, with its
own PostgreSQL, Redis, MQTT broker and moto, spoken to over HTTP like an app would."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from local.services import free_port
from tests.conftest import REPO

ADMIN_EMAIL = "ops@dogwalk.example"
ADMIN_PASSWORD = "operator-password-for-tests"
# each part's port setting, DOGWALK_<name>_PORT
PORTS = ("HTTP", "MQTT", "PG", "REDIS", "MOTO", "STRIPE", "WS")


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def http(method: str, url: str, body: Any = None, token: str | None = None, timeout: float = 10) -> Reply:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - loopback only
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
            return Reply(answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read())
    except urllib.error.HTTPError as error:
        return Reply(error.code, {k.lower(): v for k, v in error.headers.items()}, error.read())


def wait_until(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Poll a real process's state until it holds (the platform runs in another process)."""
    deadline = time.monotonic() + timeout_s
    pause = threading.Event()
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except OSError:
            pass
        pause.wait(0.2)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")


@dataclass
class RunningPlatform:
    process: subprocess.Popen[str]
    data_dir: Path
    env: dict[str, str]
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.env['DOGWALK_HTTP_PORT']}"

    @property
    def websocket_url(self) -> str:
        return f"ws://127.0.0.1:{self.env['DOGWALK_WS_PORT']}/v1/ws"

    @property
    def database_url(self) -> str:
        password = (self.data_dir / "postgres" / "password").read_text().strip()
        return f"postgresql://dogwalk:{password}@127.0.0.1:{self.env['DOGWALK_PG_PORT']}/dogwalk"

    @property
    def aws_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.env['DOGWALK_MOTO_PORT']}"

    def get(self, path: str, token: str | None = None) -> Reply:
        return http("GET", self.base + path, token=token)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()


def start_platform(
    data_dir: Path, ports: dict[str, int] | None = None, extra_env: dict[str, str] | None = None
) -> RunningPlatform:
    own = ("DATABASE_URL", "REDIS_URL", "MQTT_URL", "AWS_ENDPOINT_URL", "DOGWALK_STRIPE_API_BASE")
    env = {k: v for k, v in os.environ.items() if k not in own}
    chosen = ports or {name: free_port() for name in PORTS}
    env.update({f"DOGWALK_{name}_PORT": str(port) for name, port in chosen.items()})
    env["DOGWALK_DATA_DIR"] = str(data_dir)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra_env or {})
    log = data_dir.with_suffix(".log")
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "local", "run"], cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, text=True
        )
    platform = RunningPlatform(process, data_dir, env, log)
    try:
        wait_until(lambda: process.poll() is not None or platform.get("/v1/health").status == 200, 120, "the platform")
    except AssertionError:
        platform.stop()
        raise AssertionError(log.read_text()) from None
    if process.poll() is not None:
        raise AssertionError(f"the platform exited:\n{log.read_text()}")
    return platform


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPlatform]:
    # the session's tests all sign up from 127.0.0.1: the per-address limit would stop the eleventh
    admin = {"DOGWALK_ADMIN_EMAIL": ADMIN_EMAIL, "DOGWALK_ADMIN_PASSWORD": ADMIN_PASSWORD,
             "DOGWALK_REGISTER_PER_IP_PER_HOUR": "1000"}  # fmt: skip
    running = start_platform(tmp_path_factory.mktemp("platform") / "data", extra_env=admin)
    yield running
    running.stop()


@pytest.fixture(scope="session")
def seeded_token(platform: RunningPlatform) -> Callable[[str], tuple[str, str]]:
    """Make a user in the platform's database and sign a token with the platform's own key."""
    import uuid

    import psycopg

    def make(role: str) -> tuple[str, str]:
        user_id = str(uuid.uuid4())
        with psycopg.connect(platform.database_url, autocommit=True) as conn:
            conn.execute(
                "INSERT INTO users (id, email, role, name, password_hash) VALUES (%s, %s, %s, 'E2E', 'x')",
                (user_id, f"{user_id}@example.com", role),
            )
        return user_id, sign_with_platform_key(platform, user_id, role)

    return make


def sign_with_platform_key(platform: RunningPlatform, user_id: str, role: str) -> str:
    import boto3
    import jwt

    from dogwalk.config import settings

    secrets = boto3.client("secretsmanager", endpoint_url=platform.aws_endpoint, region_name="us-east-1")
    stored = json.loads(secrets.get_secret_value(SecretId=settings().signing_key_secret_id)["SecretString"])
    key = stored["keys"][-1]
    now = int(time.time())
    claims = {"iss": settings().jwt_issuer, "aud": settings().jwt_audience, "sub": user_id, "role": role,
              "jti": uuid_hex(), "iat": now, "exp": now + 900}  # fmt: skip
    return jwt.encode(claims, key["private_pem"], algorithm="ES256", headers={"kid": key["kid"]})


def uuid_hex() -> str:
    import uuid

    return uuid.uuid4().hex
