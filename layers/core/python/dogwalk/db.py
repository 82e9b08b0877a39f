"""PostgreSQL through psycopg 3: one connection per container (per thread, where a process runs
several, as tests and local tools do), made lazily, kept across warm invocations and made again
after a failure. Every state change runs in `transaction()`."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.rows import dict_row

from dogwalk.config import settings
from dogwalk.errors import Unavailable

Connection = psycopg.Connection[dict[str, Any]]

_local = threading.local()


def connection() -> Connection:
    """The container's connection, (re)connected when missing or broken."""
    _connection: Connection | None = getattr(_local, "connection", None)
    if _connection is None or _connection.closed or _connection.broken:
        timeout = settings().dependency_timeout_s
        try:
            _connection = psycopg.connect(
                settings().database_url,
                autocommit=True,
                row_factory=dict_row,
                connect_timeout=max(1, int(timeout)),
                options=f"-c statement_timeout={int(timeout * 1000)}",
                application_name="dogwalk",
            )
        except psycopg.OperationalError as exc:
            raise Unavailable("the database cannot be reached") from exc
        _local.connection = _connection
    return _connection


def reset() -> None:
    """Forget this thread's connection (after a failure, or between tests)."""
    current: Connection | None = getattr(_local, "connection", None)
    if current is not None:
        current.close()
    _local.connection = None


@contextmanager
def transaction() -> Iterator[Connection]:
    """One database transaction: committed when the block ends, rolled back if it raises.

    A lost connection surfaces as `Unavailable` (503) and is made again by the next call.
    """
    conn = connection()
    try:
        with conn.transaction():
            yield conn
    except psycopg.OperationalError as exc:
        reset()
        raise Unavailable("the database connection failed") from exc


def ping() -> None:
    with transaction() as conn:
        conn.execute("SELECT 1")
