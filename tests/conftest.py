"""Session fixtures: a real PostgreSQL and a real Redis, started once from their Python packages
(or the servers `DATABASE_URL` / `REDIS_URL` name), migrated once, cleaned between tests."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from tests.gateway_events import CONNECT_PATH, CONNECT_SECRET, PLATFORM_PATH, PLATFORM_SECRET, GatewayEvents

# The functions never talk to real AWS from a test: moto, and credentials that are worth nothing.
for _name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
    os.environ[_name] = "testing"
os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "DogWalkTests")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")


@dataclass(frozen=True)
class Dependencies:
    database_url: str
    redis_url: str
    # where the session's localstripe sends its signed events; None with a gateway of your own
    gateway_events: GatewayEvents | None = None


@pytest.fixture(scope="session")
def dependencies(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dependencies]:
    from local.services import LocalStripe, PortTaken, Postgres, Redis, free_port

    started: list[Any] = []

    def start(make: Callable[[int], Any]) -> str:
        """Start a server on a free port; another port if that one was taken meanwhile."""
        for attempt in range(3):
            service = make(free_port())
            try:
                url = str(service.start())
            except (PortTaken, RuntimeError, TimeoutError):
                service.stop()
                if attempt < 2:
                    continue
                for running in reversed(started):  # leave no server behind when the session cannot begin
                    running.stop()
                raise
            started.append(service)
            return url
        raise AssertionError("unreachable")

    database_url = os.environ.get("DATABASE_URL") or start(
        lambda port: Postgres(tmp_path_factory.mktemp("postgres"), port)
    )
    redis_url = os.environ.get("REDIS_URL") or start(lambda port: Redis(tmp_path_factory.mktemp("redis"), port))
    events = None if os.environ.get("DOGWALK_STRIPE_API_BASE") else GatewayEvents()
    stripe_base = os.environ.get("DOGWALK_STRIPE_API_BASE") or start(
        lambda port: LocalStripe(
            port,
            webhook=(events.url(PLATFORM_PATH), PLATFORM_SECRET) if events else None,
            connect_webhook=(events.url(CONNECT_PATH), CONNECT_SECRET) if events else None,
            webhook_delay_s=0.05,
        )
    )
    os.environ["DATABASE_URL"], os.environ["REDIS_URL"] = database_url, redis_url
    os.environ["DOGWALK_STRIPE_API_BASE"] = stripe_base
    _forget_configuration()
    with psycopg.connect(database_url, autocommit=True) as conn:
        from dogwalk.adapters import migrations

        migrations.apply(conn)
    yield Dependencies(database_url, redis_url, events)
    for service in reversed(started):
        service.stop()
    if events is not None:
        events.close()


def _forget_configuration() -> None:
    from dogwalk.adapters import cache, db
    from dogwalk.config import settings

    settings.cache_clear()
    db.reset()
    cache.reset()


@pytest.fixture
def clean_state(dependencies: Dependencies) -> Iterator[Dependencies]:
    """Empty tables (the schema stays) and an empty Redis, before the test."""
    with psycopg.connect(dependencies.database_url, autocommit=True) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations'"
            )
        ]
        if tables:
            _empty(conn, tables)
    import redis

    redis.Redis.from_url(dependencies.redis_url).flushdb()
    _forget_configuration()
    yield dependencies
    _forget_configuration()


def _empty(conn: psycopg.Connection[Any], tables: list[str]) -> None:
    """DELETE with the foreign-key triggers off: ~2 ms for the few rows a test leaves, where a TRUNCATE
    of every table (new files for each table and index) takes ~50 ms. A server of your own whose user
    may not set `session_replication_role` gets the TRUNCATE."""
    try:
        with conn.transaction():
            conn.execute("SET LOCAL session_replication_role = replica")
            conn.execute(sql.SQL("; ").join(sql.SQL("DELETE FROM {}").format(sql.Identifier(t)) for t in tables))
    except psycopg.errors.InsufficientPrivilege:
        conn.execute(sql.SQL("TRUNCATE {} CASCADE").format(sql.SQL(", ").join(map(sql.Identifier, tables))))


@dataclass(frozen=True)
class SeededUser:
    id: str
    email: str
    role: str


def insert_user(database_url: str, role: str = "owner") -> SeededUser:
    """A user row written directly (registration belongs to the auth endpoints)."""
    user = SeededUser(str(uuid.uuid4()), f"{role}-{uuid.uuid4().hex[:8]}@example.com", role)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO users (id, email, role, name, password_hash) VALUES (%s, %s, %s, %s, 'not-a-hash')",
            (user.id, user.email, role, f"Test {role}"),
        )
    return user


REPO = Path(__file__).resolve().parent.parent
