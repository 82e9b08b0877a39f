"""Scheduled daily: the walk points' monthly partitions for the next months are made, and those
wholly older than the retention period (400 days) dropped; walk summaries are kept forever.
(A no-op where the points are a TimescaleDB hypertable: its retention policy applies there.)"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from dogwalk.adapters import db
from dogwalk.adapters.observability import instrument, logger

MONTHS_AHEAD = 3
RETENTION = "400 days"


def maintain_walk_points(event: dict[str, Any], context: LambdaContext) -> dict[str, list[str]]:
    with db.transaction() as conn:
        row = conn.execute(
            "SELECT made, dropped FROM walk_points_maintain(%s, %s)", (MONTHS_AHEAD, RETENTION)
        ).fetchone()
    outcome = (
        {"made": list(row["made"] or []), "dropped": list(row["dropped"] or [])} if row else {"made": [], "dropped": []}
    )
    logger.info("walk points partitions", extra=outcome)
    return outcome


lambda_handler = instrument(maintain_walk_points)
