"""The walk points' monthly partitions: those of the next months made ahead, those wholly older
than the retention period dropped (walk summaries are kept forever). The work is the database
function `walk_points_maintain` (migration 0012), a no-op where the points are a TimescaleDB
hypertable, whose retention policy applies there."""

from __future__ import annotations

from dogwalk.adapters import db

MONTHS_AHEAD = 3
RETENTION = "400 days"


def maintain(months_ahead: int = MONTHS_AHEAD, retention: str = RETENTION) -> dict[str, list[str]]:
    """The partitions made and dropped, by name."""
    with db.transaction() as conn:
        row = conn.execute(
            "SELECT made, dropped FROM walk_points_maintain(%s, %s)", (months_ahead, retention)
        ).fetchone()
    if row is None:
        return {"made": [], "dropped": []}
    return {"made": list(row["made"] or []), "dropped": list(row["dropped"] or [])}
