"""A function restored from a SnapStart snapshot makes its own connections: the hook forgets any
the snapshot held, and the next query connects again (real PostgreSQL and Redis)."""

from __future__ import annotations

from dogwalk.adapters import cache, db, snapstart


def test_after_restore_forgets_the_snapshots_connections_and_the_next_call_makes_its_own() -> None:
    with db.transaction() as conn:
        snapshot_connection = conn
        assert conn.execute("SELECT 1 AS one").fetchone() == {"one": 1}
    cache.client().ping()
    snapshot_cache = cache.client()

    snapstart.after_restore()

    assert snapshot_connection.closed
    with db.transaction() as conn:
        assert conn is not snapshot_connection
        assert conn.execute("SELECT 1 AS one").fetchone() == {"one": 1}
    assert cache.client() is not snapshot_cache
    assert cache.client().ping()
