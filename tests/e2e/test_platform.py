"""The local platform as a newcomer meets it: `make run` serves the API, the docs and the
OpenAPI document, survives a database crash and a restart, and says clearly when a port is taken."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import psycopg

from dogwalk import registry
from local.services import free_port
from tests.conftest import REPO
from tests.e2e.conftest import PORTS, RunningPlatform, start_platform, wait_until


def test_health_is_ok_with_database_and_cache(platform: RunningPlatform) -> None:
    answer = platform.get("/v1/health")

    assert answer.status == 200
    assert answer.json() == {"status": "ok", "checks": {"database": "ok", "cache": "ok"}}
    assert answer.headers["x-request-id"]


def test_openapi_lists_every_registered_route(platform: RunningPlatform) -> None:
    document = platform.get("/openapi.json").json()

    listed = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    assert listed == {(endpoint.method, endpoint.path) for endpoint in registry.ENDPOINTS}
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_docs_page_renders_from_local_assets_only(platform: RunningPlatform) -> None:
    page = platform.get("/docs").body.decode()

    sources = [part.split('"')[1] for part in page.split("src=")[1:]] + [
        part.split('"')[1] for part in page.split("href=")[1:]
    ]
    assert sources and all(source.startswith("/docs/static/") for source in sources)
    for source in sources:
        asset = platform.get(source)
        assert asset.status == 200 and len(asset.body) > 1000, source


def test_authenticated_request_with_a_token_from_the_platform_key(platform: RunningPlatform, seeded_token) -> None:
    user_id, token = seeded_token("walker")

    answer = platform.get("/v1/auth/me", token=token)

    assert answer.status == 200
    assert answer.json()["id"] == user_id


def test_unknown_path_is_a_404_problem(platform: RunningPlatform) -> None:
    answer = platform.get("/v1/nowhere")

    assert answer.status == 404
    assert answer.headers["content-type"] == "application/problem+json"


def test_killed_database_gives_503_then_recovers(tmp_path: Path) -> None:
    running = start_platform(tmp_path / "data")
    try:
        postmaster = int((running.data_dir / "postgres" / "pgdata" / "postmaster.pid").read_text().split()[0])
        os.kill(postmaster, signal.SIGKILL)

        wait_until(lambda: running.get("/v1/health").status == 503, 20, "health to answer 503")
        down = running.get("/v1/health")
        assert down.json()["checks"]["database"] == "down"
        assert down.json()["checks"]["cache"] == "ok"

        wait_until(lambda: running.get("/v1/health").status == 200, 60, "health to recover")
    finally:
        running.stop()


def test_data_survives_a_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = start_platform(data_dir)
    ports = {name: int(first.env[f"DOGWALK_{name}_PORT"]) for name in PORTS}
    with psycopg.connect(first.database_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO users (id, email, role, name, password_hash)"
            " VALUES ('00000000-0000-4000-8000-000000000001', 'keep@example.com', 'owner', 'Keep', 'x')"
        )
    keys_before = (data_dir / "signing-keys.json").read_text()
    first.stop()

    second = start_platform(data_dir, ports)
    try:
        with psycopg.connect(second.database_url, autocommit=True) as conn:
            assert conn.execute("SELECT name FROM users WHERE email = 'keep@example.com'").fetchone() == ("Keep",)
        assert (data_dir / "signing-keys.json").read_text() == keys_before
    finally:
        second.stop()


def test_a_taken_port_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DOGWALK_STRIPE_API_BASE")}
        env.update(
            DOGWALK_DATA_DIR=str(tmp_path / "data"),
            DOGWALK_PG_PORT=str(taken),
            DOGWALK_REDIS_PORT=str(free_port()),
            DOGWALK_MQTT_PORT=str(free_port()),
            DOGWALK_MOTO_PORT=str(free_port()),
            DOGWALK_STRIPE_PORT=str(free_port()),
            DOGWALK_HTTP_PORT=str(free_port()),
            DOGWALK_WS_PORT=str(free_port()),
        )
        result = subprocess.run(
            [sys.executable, "-m", "local", "run"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
        )

    assert result.returncode != 0
    assert f"port {taken} for PostgreSQL is taken" in result.stderr
    assert "DOGWALK_PG_PORT" in result.stderr
    assert "Traceback" not in result.stderr


def test_platform_uses_the_servers_the_environment_names(tmp_path: Path, dependencies) -> None:
    env = {"DATABASE_URL": dependencies.database_url, "REDIS_URL": dependencies.redis_url}
    running = start_platform(tmp_path / "data", extra_env=env)
    try:
        assert running.get("/v1/health").json()["checks"] == {"database": "ok", "cache": "ok"}
        assert not (tmp_path / "data" / "postgres").exists()
        assert not (tmp_path / "data" / "redis").exists()
    finally:
        running.stop()


def test_the_platform_saves_a_card_through_its_own_localstripe(platform: RunningPlatform, seeded_token) -> None:
    from tests.e2e.conftest import http

    _, token = seeded_token("owner")

    answer = http("POST", f"{platform.base}/v1/payments/methods", {"gateway_token": "pm_card_visa"}, token=token)

    assert answer.status == 201, answer.body
    assert (answer.json()["brand"], answer.json()["last4"]) == ("visa", "4242")


def test_localstripe_events_reach_the_webhook_signed_and_verified(platform: RunningPlatform) -> None:
    import stripe

    client = stripe.StripeClient(
        "sk_test_e2e", base_addresses={"api": f"http://127.0.0.1:{platform.env['DOGWALK_STRIPE_PORT']}"}
    )
    intent = client.v1.payment_intents.create(
        params={"amount": 500, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True}
    )
    assert intent.status == "succeeded"

    def recorded() -> bool:
        with psycopg.connect(platform.database_url, autocommit=True) as conn:
            return (
                conn.execute("SELECT 1 FROM webhook_events WHERE type = 'payment_intent.succeeded'").fetchone()
                is not None
            )

    # localstripe sends its events a second after the change, signed with the local webhook secret
    wait_until(recorded, 30, "the payment_intent.succeeded event in webhook_events")
