"""GET /v1/health: 200 when PostgreSQL and Redis answer, 503 (quickly, not a hang) when one does not."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from local.services import free_port
from tests.integration.conftest import Api


def test_health_is_ok_when_database_and_cache_answer(api: Api) -> None:
    answer = api.get("/v1/health")

    assert answer.status == 200
    assert answer.json() == {"status": "ok", "checks": {"database": "ok", "cache": "ok"}}
    assert answer.headers["x-request-id"]


@pytest.fixture
def pointing_at_nothing() -> Iterator[dict[str, str]]:
    """Swap a dependency's URL for a port where nothing listens, then restore it."""
    from dogwalk.adapters import cache, db
    from dogwalk.config import settings

    saved = {name: os.environ[name] for name in ("DATABASE_URL", "REDIS_URL")}
    yield os.environ
    os.environ.update(saved)
    settings.cache_clear()
    db.reset()
    cache.reset()


def _break(environ: dict[str, str], name: str) -> None:
    from dogwalk.adapters import cache, db
    from dogwalk.config import settings

    dead = free_port()
    environ[name] = (
        f"postgresql://nobody:x@127.0.0.1:{dead}/none" if name == "DATABASE_URL" else f"redis://127.0.0.1:{dead}/0"
    )
    settings.cache_clear()
    db.reset()
    cache.reset()


def test_health_is_503_when_the_database_is_down(api: Api, pointing_at_nothing: dict[str, str]) -> None:
    _break(pointing_at_nothing, "DATABASE_URL")

    answer = api.get("/v1/health")

    assert answer.status == 503
    assert answer.json() == {"status": "degraded", "checks": {"database": "down", "cache": "ok"}}


def test_health_is_503_when_the_cache_is_down(api: Api, pointing_at_nothing: dict[str, str]) -> None:
    _break(pointing_at_nothing, "REDIS_URL")

    answer = api.get("/v1/health")

    assert answer.status == 503
    assert answer.json()["checks"] == {"database": "ok", "cache": "down"}


def test_database_connection_is_made_again_after_it_was_killed(api: Api, state) -> None:
    import psycopg

    from dogwalk.adapters import db

    assert api.get("/v1/health").status == 200
    backend = db.connection().info.backend_pid
    with psycopg.connect(state.database_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (backend,))

    first = api.get("/v1/health")  # the dead connection is noticed and dropped
    second = api.get("/v1/health")  # a new one is made

    assert first.status in (200, 503)
    assert second.status == 200
    assert db.connection().info.backend_pid != backend
