"""Redis through redis-py: one client per container, made lazily, with short timeouts so a
cache outage answers quickly instead of hanging the request."""

from __future__ import annotations

import redis

from dogwalk.config import settings

_client: redis.Redis | None = None


def client() -> redis.Redis:
    global _client
    if _client is None:
        timeout = settings().dependency_timeout_s
        _client = redis.Redis.from_url(
            settings().redis_url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            health_check_interval=30,
            decode_responses=True,
        )
    return _client


def reset() -> None:
    global _client
    if _client is not None:
        _client.close()
    _client = None


def ping() -> None:
    client().ping()
