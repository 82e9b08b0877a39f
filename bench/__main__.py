"""`make bench`: cold start and warm latency of the handlers, on real PostgreSQL and Redis.

Cold start: every endpoint's, beside the Powertools cookbook's, in `bench.cold_starts`. Warm =
p50/p99 of 10,000 in-process invocations after a warm-up.
"""

from __future__ import annotations

import importlib
import json
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WARM_CALLS = 10_000


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def warm(
    handler: Any, event: dict[str, Any] | list[dict[str, Any]], name: str, calls: int = WARM_CALLS
) -> dict[str, float]:
    from local.runtime import LambdaContext

    context = LambdaContext(name)
    events = event if isinstance(event, list) else [event]
    for index in range(200):
        handler(events[index % len(events)], context)
    samples, statuses = [], set()
    for index in range(calls):
        started = time.perf_counter()
        answer = handler(events[index % len(events)], context)
        samples.append((time.perf_counter() - started) * 1000)
        statuses.add(answer.get("statusCode", 200))
    if statuses != {200}:
        raise RuntimeError(f"{name} answered {statuses} during the benchmark")
    return {"p50_ms": percentile(samples, 50), "p99_ms": percentile(samples, 99)}


def main() -> None:
    from bench.cold_starts import run_cold_starts
    from local.services import LocalStripe, Postgres, Redis, free_port

    run_cold_starts()
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    workdir = Path(tempfile.mkdtemp(prefix="dogwalk-bench-"))
    postgres = Postgres(workdir / "postgres", free_port())
    redis = Redis(workdir / "redis", free_port())
    os.environ["DATABASE_URL"] = postgres.start()
    os.environ["REDIS_URL"] = redis.start()
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1")  # noqa: S106  # nosec B106
    stripe = LocalStripe(free_port())  # the payment gateway of the bookings section
    try:
        os.environ["DOGWALK_STRIPE_API_BASE"] = stripe.start()
        run(workdir)
    finally:
        stripe.stop()
        redis.stop()
        postgres.stop()


def run(workdir: Path) -> None:
    import psycopg
    from moto import mock_aws

    from dogwalk.adapters import migrations
    from dogwalk.registry import AUTHORIZER, endpoint
    from local.api_gateway import rest_event

    # callers enough that 10,000 calls stay under the per-user limit of 300 a minute
    user_ids = [str(uuid.uuid4()) for _ in range(60)]
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        migrations.apply(conn)
        for user_id in user_ids:
            conn.execute(
                "INSERT INTO users (id, email, role, name, password_hash) VALUES (%s, %s, 'owner', 'Bench', 'x')",
                (user_id, f"{user_id}@example.com"),
            )
    user_id = user_ids[0]

    def event_for(name: str, caller: str = user_id) -> dict[str, Any]:
        route = endpoint(name)
        event = rest_event(route.method, route.path, "", [], b"", route, {}, "127.0.0.1", str(uuid.uuid4()))
        if not route.public:
            event["requestContext"]["authorizer"] = {"sub": caller, "role": "owner", "principalId": caller}
        return event

    from auth import get_jwks, get_me
    from operations import get_health

    print(f"Warm invocation, in-process, {WARM_CALLS:,} calls:")
    with mock_aws():
        from dogwalk.auth import signing_keys
        from dogwalk.auth.tokens import issue_access_token

        signing_keys.ensure_signing_key()
        rows: list[tuple[str, Any, Any, str]] = [
            ("get_jwks (no database)", get_jwks.lambda_handler, event_for("get_jwks"), "get_jwks"),
            ("get_health (PG + Redis)", get_health.lambda_handler, event_for("get_health"), "get_health"),
            (
                "get_me (2 Redis + 1 PG)",
                get_me.lambda_handler,
                [event_for("get_me", caller) for caller in user_ids],
                "get_me",
            ),
        ]
        token, _ = issue_access_token(user_id, "owner")
        authorize = importlib.import_module(AUTHORIZER.module).lambda_handler
        authorizer_event = {
            "type": "TOKEN",
            "authorizationToken": f"Bearer {token}",
            "methodArn": "arn:aws:execute-api:us-east-1:123456789012:abc/v1/GET/v1/auth/me",
        }
        rows.append(("authorize (ES256 verify)", authorize, authorizer_event, "authorize"))
        for label, handler, event, name in rows:
            figures = warm(handler, event, name)
            print(f"  {label:<26} p50 {figures['p50_ms']:6.3f} ms   p99 {figures['p99_ms']:6.3f} ms")
        auth_flows(event_for)
    from bench.search import run_search_benchmark

    run_search_benchmark()
    from bench.bookings import run_bookings_benchmark

    run_bookings_benchmark()
    from bench.tracking import run_tracking_benchmark

    run_tracking_benchmark()
    from bench.notifications import run_notifications_benchmark

    run_notifications_benchmark()
    from bench.live import run_live_benchmark

    run_live_benchmark()


def auth_flows(event_for: Any) -> None:
    """Login (Argon2id by design) and refresh, through the handlers, on PostgreSQL and Redis."""
    from auth import login, refresh_tokens, register

    from dogwalk.adapters import db
    from dogwalk.auth import sessions
    from local.runtime import LambdaContext

    def call(module: Any, name: str, body: dict[str, Any], source_ip: str = "198.51.100.1") -> dict[str, Any]:
        event = event_for(name)
        event["body"] = json.dumps(body)
        event["headers"] = {"Content-Type": "application/json"}
        event["requestContext"]["identity"]["sourceIp"] = source_ip
        answer = module.lambda_handler(event, LambdaContext(name))
        if answer["statusCode"] not in (200, 201):
            raise RuntimeError(f"{name} answered {answer['statusCode']}: {answer['body']}")
        return dict(json.loads(answer["body"]))

    password = "a long walk in the park 2026"  # noqa: S105 - the benchmark account's
    user = call(register, "register", {"email": "bench@example.com", "password": password, "role": "owner",
                                       "name": "Bench"})["user"]  # fmt: skip
    logins = []
    for _ in range(60):
        started = time.perf_counter()
        call(login, "login", {"email": "bench@example.com", "password": password})
        logins.append((time.perf_counter() - started) * 1000)
    mean = statistics.mean(logins)
    print(f"Login (one container, sequential, {len(logins)} calls; Argon2id m=19 MiB t=2 p=1 dominates):")
    print(f"  p50 {percentile(logins, 50):.1f} ms   p99 {percentile(logins, 99):.1f} ms   ≈ {1000 / mean:.0f} logins/s")

    with db.transaction() as conn:  # one family per refresh: the per-family limit is 30 an hour
        tokens = [sessions.start_family(conn, user["id"]) for _ in range(500)]
    refreshes = []
    for token in tokens:
        started = time.perf_counter()
        call(refresh_tokens, "refresh_tokens", {"refresh_token": token})
        refreshes.append((time.perf_counter() - started) * 1000)
    print(f"Refresh ({len(refreshes)} calls: rotate in one transaction, sign ES256):")
    print(f"  p50 {percentile(refreshes, 50):.2f} ms   p99 {percentile(refreshes, 99):.2f} ms")


if __name__ == "__main__":
    main()
