"""Walk points' monthly partitions (made ahead, dropped after the retention period, made on demand
when a point arrives in a month without one) and a completed walk's frozen summary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dogwalk.tracking import ingest
from local.runtime import LambdaContext
from tests.integration.bookings.conftest import database_url
from tests.integration.conftest import Api
from tests.integration.marketplace.conftest import rows, run_sql
from tests.integration.tracking.conftest import Walk


def partitions() -> set[str]:
    found = rows(database_url(), "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                                 " WHERE i.inhparent = 'walk_points'::regclass")  # fmt: skip
    return {row["relname"] for row in found}


def month_name(moment: datetime, ahead: int = 0) -> str:
    month = moment.month - 1 + ahead
    return f"walk_points_{moment.year + month // 12}_{month % 12 + 1:02d}"


def test_the_daily_job_makes_months_ahead_and_drops_what_is_past_retention() -> None:
    from tracking import maintain_walk_points

    run_sql(database_url(), "CREATE TABLE walk_points_2024_01 PARTITION OF walk_points"
                            " FOR VALUES FROM ('2024-01-01 00:00+00') TO ('2024-02-01 00:00+00')")  # fmt: skip
    run_sql(database_url(), f"DROP TABLE IF EXISTS {month_name(datetime.now(UTC), 3)}")

    outcome = maintain_walk_points.lambda_handler({}, LambdaContext("maintain_walk_points"))

    now = datetime.now(UTC)
    assert outcome == {"made": [month_name(now, 3)], "dropped": ["walk_points_2024_01"]}
    assert {month_name(now, ahead) for ahead in range(4)} <= partitions()
    assert "walk_points_2024_01" not in partitions()


def test_a_point_in_a_month_without_its_partition_gets_one(walk: Walk) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    run_sql(database_url(), f"DROP TABLE {month_name(now)}")  # as if the daily job had never run

    outcome = ingest.ingest(walk.id, [ingest.Point(now, 40.7560, -73.9860, 5.0)])

    assert outcome is not None and len(outcome.accepted) == 1
    assert month_name(now) in partitions()
    assert rows(database_url(), "SELECT count(*) AS n FROM walk_points WHERE walk_id = %s", walk.id) == [{"n": 1}]


def test_a_completed_walk_is_frozen(api: Api, walk: Walk) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    ingest.ingest(walk.id, [ingest.Point(now, 40.7560, -73.9860, 5.0)])
    assert api.post(f"/v1/bookings/{walk.booking_id}/complete", token=walk.walker.token).status == 200

    late = ingest.ingest(walk.id, [ingest.Point(now + timedelta(seconds=1), 40.7561, -73.9860, 5.0)])

    assert late is not None and late.accepted == [] and late.dropped == {"walk_ended": 1}
    summary = rows(database_url(), "SELECT points, dropped FROM walks WHERE id = %s", walk.id)[0]
    assert summary == {"points": 1, "dropped": {}}
