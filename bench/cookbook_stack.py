"""The cookbook function (`bench.cookbook`) on this platform's stack, the floor under the cold-start
goal (`bench.cold_starts`): the same resolver, Logger, Metrics and model, and a route that reads one
row from PostgreSQL with psycopg and one key from Redis with redis-py, each connected on its first
use, as every endpoint of ours that reads the database and the cache must. Nothing of ours either:
what those two packages cost on top of the cookbook is what no handler of ours can avoid."""

from __future__ import annotations

import os
from typing import Any

import psycopg
import redis

from bench.cookbook import Todo, app, lambda_handler, logger

__all__ = ["lambda_handler"]

_database: psycopg.Connection[Any] | None = None
_cache: redis.Redis | None = None


@app.get("/stored/todos/<todo_id>")
def get_stored_todo(todo_id: str) -> Todo:
    global _database, _cache
    if _database is None:
        _database = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
    if _cache is None:
        _cache = redis.Redis.from_url(os.environ["REDIS_URL"], decode_responses=True)
    row = _database.execute("SELECT %s::text, 'Walk the dog'", (todo_id,)).fetchone()
    completed = _cache.get(f"todo:{todo_id}:completed") == "1"
    logger.info("reading a stored todo", extra={"todo_id": todo_id})
    assert row is not None  # a SELECT without FROM answers one row
    return Todo(id=row[0], title=row[1], completed=completed)
