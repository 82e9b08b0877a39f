"""The restore test's validation (dogwalk/operations/restore_validation.py) against the real test PostgreSQL.

The test database plays the source and, through a second connection, the restored cluster; a
scratch database plays a restore that lost data or money. AWS Backup and RDS are botocore clients
with a Stubber: the calls and their parameters are checked, nothing reaches AWS.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import psycopg
import pytest
from botocore.stub import ANY, Stubber
from psycopg.rows import dict_row

from dogwalk.adapters import migrations
from dogwalk.operations import restore_validation
from dogwalk.operations.restore_validation import FAILED, SUCCESSFUL, Restored
from dogwalk.payments import ledger

JOB = "restore-job-0123"
CLUSTER_ARN = "arn:aws:rds:us-east-1:123456789012:cluster:awsbackup-restore-test-abc"
PLAN_ARN = "arn:aws:backup:us-east-1:123456789012:restore-testing-plan:dogwalk_dev_aurora_monthly-abc"


def connect(url: str) -> psycopg.Connection[dict[str, Any]]:
    return psycopg.connect(url, autocommit=True, row_factory=dict_row)


@pytest.fixture
def clients() -> Iterator[tuple[Any, Any, Stubber, Stubber]]:
    backup = boto3.client("backup", region_name="us-east-1")
    rds = boto3.client("rds", region_name="us-east-1")
    with Stubber(backup) as backup_stub, Stubber(rds) as rds_stub:
        yield backup, rds, backup_stub, rds_stub
        backup_stub.assert_no_pending_responses()
        rds_stub.assert_no_pending_responses()


def expect_restore_job(backup_stub: Stubber, rds_stub: Stubber, *, port: int, arn: str = CLUSTER_ARN) -> None:
    backup_stub.add_response(
        "describe_restore_job",
        {"RestoreJobId": JOB, "CreatedResourceArn": arn, "CreatedBy": {"RestoreTestingPlanArn": PLAN_ARN}},
        {"RestoreJobId": JOB},
    )
    if arn == CLUSTER_ARN:
        rds_stub.add_response(
            "describe_db_clusters",
            {
                "DBClusters": [
                    {"DBClusterIdentifier": "awsbackup-restore-test-abc", "Endpoint": "127.0.0.1", "Port": port}
                ]
            },
            {"DBClusterIdentifier": "awsbackup-restore-test-abc"},
        )


def expect_verdict(backup_stub: Stubber, status: str) -> None:
    backup_stub.add_response(
        "put_restore_validation_result",
        {},
        {"RestoreJobId": JOB, "ValidationStatus": status, "ValidationStatusMessage": ANY},
    )


def run_validation(clients: tuple[Any, Any, Stubber, Stubber], *, source: Any, restored: Any, **options: Any) -> Any:
    """`restore_validation.validate` of the test's job, with the stubbed clients."""
    backup, rds, _, _ = clients
    return restore_validation.validate(JOB, backup=backup, rds=rds, source=source, connect_restored=restored,
                                       **options)  # fmt: skip


def seed_money(url: str, count: int) -> None:
    """`count` balanced transactions of two entries each."""
    with psycopg.connect(url, row_factory=dict_row) as conn:
        for index in range(count):
            ledger.post(
                conn,
                kind="adjustment",
                reference=f"restore-test:{index}",
                entries=[(ledger.GATEWAY_CLEARING, 2500), (ledger.PLATFORM_REVENUE, -2500)],
            )


@pytest.fixture
def lost_restore(state) -> Iterator[str]:
    """A migrated, empty database: what a restore that lost the data would give back."""
    name = "restore_validation_scratch"
    with psycopg.connect(state.database_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    url = state.database_url.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(url, autocommit=True) as conn:
        migrations.apply(conn)
    yield url
    with psycopg.connect(state.database_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_a_faithful_restore_is_reported_successful(state, clients) -> None:
    _, _, backup_stub, rds_stub = clients
    seed_money(state.database_url, 3)
    expect_restore_job(backup_stub, rds_stub, port=5432)
    expect_verdict(backup_stub, SUCCESSFUL)
    seen: list[Restored] = []

    def connect_restored(restored: Restored) -> psycopg.Connection[dict[str, Any]]:
        seen.append(restored)
        return connect(state.database_url)

    verdict = run_validation(clients, source=lambda: connect(state.database_url), restored=connect_restored)

    assert verdict.status == SUCCESSFUL, verdict.problems
    assert seen == [Restored(JOB, "awsbackup-restore-test-abc", "127.0.0.1", 5432)]
    assert f"migrations at {migrations.available()[-1].version}" in verdict.message


def test_a_restore_behind_the_code_s_migrations_fails(state, clients) -> None:
    _, _, backup_stub, rds_stub = clients
    expect_restore_job(backup_stub, rds_stub, port=5432)
    expect_verdict(backup_stub, FAILED)

    verdict = run_validation(
        clients,
        source=lambda: connect(state.database_url),
        restored=lambda _: connect(state.database_url),
        expected_migration="9999_not_yet_written",
    )

    assert verdict.status == FAILED
    assert verdict.problems == [
        f"schema_migrations ends at {migrations.available()[-1].version}, the code at 9999_not_yet_written"
    ]


def test_a_restore_that_lost_rows_fails_naming_the_tables(state, clients, lost_restore: str) -> None:
    _, _, backup_stub, rds_stub = clients
    seed_money(state.database_url, 20)  # 20 transactions, 40 entries: beyond the 10-row slack
    expect_restore_job(backup_stub, rds_stub, port=5432)
    expect_verdict(backup_stub, FAILED)

    verdict = run_validation(
        clients,
        source=lambda: connect(state.database_url),
        restored=lambda _: connect(lost_restore),
    )

    assert verdict.status == FAILED
    assert verdict.problems == [
        "ledger_transactions: 0 rows restored, the source has 20",
        "ledger_entries: 0 rows restored, the source has 40",
    ]


def test_a_few_rows_behind_is_within_the_tolerance(state, lost_restore: str) -> None:
    seed_money(state.database_url, 4)  # 8 entries and 4 transactions behind: within the slack of 10
    with connect(state.database_url) as source, connect(lost_restore) as restored:
        verdict = restore_validation.check(source, restored)
    assert verdict.status == SUCCESSFUL, verdict.problems


def test_an_unbalanced_ledger_fails(state, lost_restore: str) -> None:
    # the database refuses an unbalanced transaction at commit: write one with its triggers off,
    # as a restore that lost one entry of a transaction would leave it
    with psycopg.connect(lost_restore, autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute(
            "INSERT INTO ledger_accounts (id, kind) VALUES (%s, 'asset') ON CONFLICT DO NOTHING",
            (ledger.GATEWAY_CLEARING,),
        )
        conn.execute(
            "INSERT INTO ledger_transactions (id, kind, reference, description)"
            " VALUES ('00000000-0000-0000-0000-000000000001', 'capture', 'lost-entry', '')"
        )
        conn.execute(
            "INSERT INTO ledger_entries (transaction_id, account_id, amount_cents, currency)"
            " VALUES ('00000000-0000-0000-0000-000000000001', 'gateway:clearing', 2500, 'USD')"
        )
    with connect(state.database_url) as source, connect(lost_restore) as restored:
        verdict = restore_validation.check(source, restored)
    assert verdict.status == FAILED
    assert verdict.problems == ["ledger unbalanced: debits 2500, credits 0, 1 transactions not summing to zero"]


def test_a_job_that_restored_no_cluster_is_a_failed_validation_not_an_error(state, clients) -> None:
    _, _, backup_stub, rds_stub = clients
    expect_restore_job(backup_stub, rds_stub, port=5432, arn="arn:aws:s3:::some-bucket")
    expect_verdict(backup_stub, FAILED)

    verdict = run_validation(
        clients,
        source=lambda: connect(state.database_url),
        restored=lambda _: pytest.fail("no cluster to connect to"),
    )

    assert verdict.status == FAILED
    assert verdict.message.startswith("validation could not run: ValueError: restore job restore-job-0123 created no")


def test_an_unreachable_restored_cluster_fails_the_validation(state, clients) -> None:
    from local.services import free_port

    _, _, backup_stub, rds_stub = clients
    port = free_port()
    expect_restore_job(backup_stub, rds_stub, port=port)
    expect_verdict(backup_stub, FAILED)

    verdict = run_validation(
        clients,
        source=lambda: connect(state.database_url),
        restored=lambda restored: psycopg.connect(
            host=restored.endpoint, port=restored.port, dbname="dogwalk", connect_timeout=2
        ),
    )

    assert verdict.status == FAILED
    assert "OperationalError" in verdict.message


def test_an_operator_s_restore_is_not_judged(state, clients) -> None:
    _, _, backup_stub, _ = clients
    backup_stub.add_response(
        "describe_restore_job", {"RestoreJobId": JOB, "CreatedResourceArn": CLUSTER_ARN}, {"RestoreJobId": JOB}
    )

    verdict = run_validation(
        clients,
        source=lambda: pytest.fail("nothing to compare"),
        restored=lambda _: pytest.fail("nothing to connect to"),
    )

    assert verdict is None  # and no PutRestoreValidationResult (the stubber has no response queued for one)


def test_a_verdict_that_cannot_be_reported_raises_for_a_retry(state, clients) -> None:
    backup, _, backup_stub, rds_stub = clients
    expect_restore_job(backup_stub, rds_stub, port=5432)
    backup_stub.add_client_error("put_restore_validation_result", "InvalidRequestException", "job already validated")

    with pytest.raises(backup.exceptions.InvalidRequestException):
        run_validation(
            clients,
            source=lambda: connect(state.database_url),
            restored=lambda _: connect(state.database_url),
        )
