"""The migration runner: each file once, recorded, safe when two runners start together."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import psycopg
import pytest

from dogwalk.adapters import migrations


def test_applied_migrations_are_recorded_and_not_run_again(state) -> None:
    with psycopg.connect(state.database_url, autocommit=True) as conn:
        assert migrations.apply(conn) == []
        recorded = [row[0] for row in conn.execute("SELECT version FROM schema_migrations ORDER BY version")]
    assert recorded == [m.version for m in migrations.available()]


@pytest.fixture
def scratch_database(state) -> str:
    name = "migrations_scratch"
    with psycopg.connect(state.database_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    return state.database_url.rsplit("/", 1)[0] + f"/{name}"


def test_two_runners_at_once_apply_everything_exactly_once(scratch_database: str) -> None:
    results: list[list[str]] = []

    def run() -> None:
        with psycopg.connect(scratch_database, autocommit=True) as conn:
            results.append(migrations.apply(conn))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    everything = [m.version for m in migrations.available()]
    assert sorted(results, key=len) == [[], everything]


def test_a_changed_migration_is_refused(scratch_database: str, tmp_path: Path, monkeypatch) -> None:
    with psycopg.connect(scratch_database, autocommit=True) as conn:
        migrations.apply(conn)
        conn.execute("UPDATE schema_migrations SET checksum = 'edited' WHERE version = '0001_users'")
        with pytest.raises(RuntimeError, match="changed after it was applied"):
            migrations.apply(conn)


def test_a_failing_migration_leaves_nothing_behind(scratch_database: str, tmp_path: Path) -> None:
    for migration in migrations.available():
        shutil.copy(migration.path, tmp_path)
    (tmp_path / "9999_broken.sql").write_text("CREATE TABLE half_done (id int); SELECT no_such_function();")

    with psycopg.connect(scratch_database, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.UndefinedFunction):
            migrations.apply(conn, tmp_path)
        assert conn.execute("SELECT to_regclass('half_done')").fetchone() == (None,)
        assert conn.execute("SELECT count(*) FROM schema_migrations WHERE version = '9999_broken'").fetchone() == (0,)
