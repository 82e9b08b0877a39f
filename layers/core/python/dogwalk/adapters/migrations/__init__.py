"""Versioned plain-SQL migrations (`NNNN_name.sql` beside this file) and their runner.

Each file runs once, in its own transaction, recorded in `schema_migrations` with its
checksum; an advisory lock lets concurrent starters (several local processes, a deploy
racing a retry) apply them exactly once. An applied file that changed is an error.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import psycopg

_LOCK_KEY = 0x646F67  # any constant shared by every runner
_HERE = Path(__file__).parent


@dataclass(frozen=True)
class Migration:
    version: str
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text()

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def available(directory: Path = _HERE) -> list[Migration]:
    return [Migration(path.stem, path) for path in sorted(directory.glob("[0-9][0-9][0-9][0-9]_*.sql"))]


def apply(conn: psycopg.Connection, directory: Path = _HERE) -> list[str]:
    """Apply what has not run yet (the platform's migrations, or those of `directory`); returns
    the versions applied now."""
    applied_now: list[str] = []
    conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
    try:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {row[0]: row[1] for row in conn.execute("SELECT version, checksum FROM schema_migrations").fetchall()}
        for migration in available(directory):
            if migration.version in done:
                if done[migration.version] != migration.checksum:
                    raise RuntimeError(f"migration {migration.version} changed after it was applied")
                continue
            with conn.transaction():
                conn.execute(migration.sql)
                conn.execute(
                    "INSERT INTO schema_migrations (version, checksum) VALUES (%s, %s)",
                    (migration.version, migration.checksum),
                )
            applied_now.append(migration.version)
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
    return applied_now
