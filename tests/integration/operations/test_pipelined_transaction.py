"""`db.pipelined_transaction` (the ingest's: BEGIN with its first query, COMMIT with its last
statements) on real PostgreSQL: what it commits is there, a block that raises or forgets to commit
leaves nothing, and the connection is idle again either way."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import psycopg
import pytest
from psycopg.pq import TransactionStatus

from dogwalk.adapters import db
from tests.conftest import Dependencies

POINT = "INSERT INTO walk_points (walk_id, ts, lat, lon) VALUES (%s, %s, 0, 0)"


def stored(state: Dependencies, walk_id: uuid.UUID) -> int:
    with psycopg.connect(state.database_url) as conn:
        row = conn.execute("SELECT count(*) FROM walk_points WHERE walk_id = %s", (walk_id,)).fetchone()
    return int(row[0]) if row else 0


def test_the_first_query_answers_and_the_last_statements_commit(state: Dependencies) -> None:
    walk_id, now = uuid.uuid4(), datetime.now(UTC).replace(microsecond=500)

    with db.pipelined_transaction() as transaction:
        assert transaction.begin("SELECT %s::int AS n", (7,)) == [{"n": 7}]
        transaction.conn.execute(POINT, (walk_id, now))
        transaction.commit(POINT, [(walk_id, now.replace(microsecond=1)), (walk_id, now.replace(microsecond=2))])

    assert stored(state, walk_id) == 3
    assert db.connection().info.transaction_status == TransactionStatus.IDLE


def test_a_block_that_raises_leaves_nothing(state: Dependencies) -> None:
    walk_id = uuid.uuid4()

    with pytest.raises(ZeroDivisionError), db.pipelined_transaction() as transaction:
        transaction.begin("SELECT 1", ())
        transaction.conn.execute(POINT, (walk_id, datetime.now(UTC)))
        _ = 1 / 0

    assert stored(state, walk_id) == 0
    assert db.connection().info.transaction_status == TransactionStatus.IDLE


def test_a_block_that_never_commits_is_rolled_back(state: Dependencies) -> None:
    walk_id = uuid.uuid4()

    with pytest.raises(RuntimeError, match="without its commit"), db.pipelined_transaction() as transaction:
        transaction.begin("SELECT 1", ())
        transaction.conn.execute(POINT, (walk_id, datetime.now(UTC)))

    assert stored(state, walk_id) == 0
    assert db.connection().info.transaction_status == TransactionStatus.IDLE


def test_a_failing_last_statement_commits_nothing(state: Dependencies) -> None:
    walk_id = uuid.uuid4()

    with pytest.raises(psycopg.errors.CheckViolation), db.pipelined_transaction() as transaction:
        transaction.begin("SELECT 1", ())
        transaction.conn.execute(POINT, (walk_id, datetime.now(UTC)))
        transaction.commit("INSERT INTO walk_points (walk_id, ts, lat, lon) VALUES (%s, %s, 91, 0)",
                           [(walk_id, datetime.now(UTC))])  # fmt: skip

    assert stored(state, walk_id) == 0
    assert db.connection().info.transaction_status == TransactionStatus.IDLE
