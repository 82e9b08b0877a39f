"""Validating an AWS Backup restore test of the Aurora cluster (infra/backups.py's restore testing plan).

When a restore testing job completes, AWS Backup has restored the latest recovery point as a new
cluster and waits (up to the plan's validation window) for a verdict before it deletes it. The
verdict checks what a real restore must give back:

- the schema: the restored `schema_migrations` ends at the code's latest migration;
- the data: each main table's row count is within `tolerance` of the source's (the recovery point
  is up to a day older than the source, and the source keeps growing);
- the money: the ledger balances (every transaction's entries sum to zero, so the debits equal the
  credits, see dogwalk/payments/ledger.py) — a restore that lost entries of a transaction shows here.

and reports it with `PutRestoreValidationResult`. The restored cluster's endpoint comes from the
restore job's `CreatedResourceArn` (RDS `DescribeDBClusters`); the caller connects to it (with the
source's credentials: a restored cluster keeps its master user).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from psycopg import sql

from dogwalk.adapters import migrations
from dogwalk.adapters.db import Connection

# the tables whose loss a restore must not hide; counted in the source and in the restored copy
MAIN_TABLES: tuple[str, ...] = (
    "users",
    "dogs",
    "walker_profiles",
    "bookings",
    "walks",
    "ledger_transactions",
    "ledger_entries",
    "payouts",
    "conversations",
    "messages",
)
# the restored copy may lag the source by this share of its rows (and by `ABSOLUTE_SLACK` rows at least)
DEFAULT_TOLERANCE = 0.05
ABSOLUTE_SLACK = 10
SUCCESSFUL, FAILED = "SUCCESSFUL", "FAILED"
# PutRestoreValidationResult's message: kept short, with no personal data (counts and names only)
MESSAGE_LIMIT = 1000


@dataclass(frozen=True)
class Restored:
    """The restored cluster of a restore job."""

    restore_job_id: str
    cluster_identifier: str
    endpoint: str
    port: int


@dataclass
class Verdict:
    problems: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        return FAILED if self.problems else SUCCESSFUL

    @property
    def message(self) -> str:
        text = "; ".join(self.problems) if self.problems else "checked " + ", ".join(self.checked)
        return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 1] + "…"


def latest_migration() -> str:
    return migrations.available()[-1].version


def restored_cluster(backup: Any, rds: Any, job: dict[str, Any]) -> Restored:
    """The cluster a restore job (`DescribeRestoreJob`'s answer) created, with its writer endpoint."""
    restore_job_id = str(job.get("RestoreJobId", ""))
    arn = job.get("CreatedResourceArn") or ""
    # arn:aws:rds:<region>:<account>:cluster:<identifier>
    parts = arn.split(":")
    if len(parts) != 7 or parts[2] != "rds" or parts[5] != "cluster":
        raise ValueError(f"restore job {restore_job_id} created no Aurora cluster ({arn or 'nothing'})")
    identifier = parts[6]
    [cluster] = rds.describe_db_clusters(DBClusterIdentifier=identifier)["DBClusters"]
    return Restored(restore_job_id, identifier, str(cluster["Endpoint"]), int(cluster["Port"]))


def row_counts(conn: Connection, tables: Sequence[str] = MAIN_TABLES) -> dict[str, int]:
    counts = {}
    for table in tables:
        # the names are this module's constants, never input; quoted as identifiers all the same
        row = conn.execute(sql.SQL("SELECT count(*)::bigint AS n FROM {}").format(sql.Identifier(table))).fetchone()
        counts[table] = int(row["n"]) if row else 0
    return counts


def check(
    source: Connection,
    restored: Connection,
    *,
    expected_migration: str | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
    tables: Sequence[str] = MAIN_TABLES,
) -> Verdict:
    verdict = Verdict()
    expected = expected_migration or latest_migration()
    row = restored.execute("SELECT max(version) AS version FROM schema_migrations").fetchone()
    version = row["version"] if row else None
    if version != expected:
        verdict.problems.append(f"schema_migrations ends at {version}, the code at {expected}")
    verdict.checked.append(f"migrations at {version}")

    source_counts, restored_counts = row_counts(source, tables), row_counts(restored, tables)
    for table in tables:
        had, got = source_counts[table], restored_counts[table]
        if abs(had - got) > max(ABSOLUTE_SLACK, tolerance * had):
            verdict.problems.append(f"{table}: {got} rows restored, the source has {had}")
    verdict.checked.append(f"row counts of {len(tables)} tables within {tolerance:.0%}")

    totals = restored.execute(
        "SELECT coalesce(sum(amount_cents) FILTER (WHERE amount_cents > 0), 0)::bigint AS debits,"
        "       coalesce(-sum(amount_cents) FILTER (WHERE amount_cents < 0), 0)::bigint AS credits"
        "  FROM ledger_entries"
    ).fetchone()
    unbalanced = restored.execute(
        "SELECT count(*)::bigint AS n FROM (SELECT transaction_id FROM ledger_entries"
        " GROUP BY transaction_id, currency HAVING sum(amount_cents) <> 0) t"
    ).fetchone()
    debits, credits = (int(totals["debits"]), int(totals["credits"])) if totals else (0, 0)
    if debits != credits or (unbalanced and int(unbalanced["n"])):
        verdict.problems.append(
            f"ledger unbalanced: debits {debits}, credits {credits}, "
            f"{int(unbalanced['n']) if unbalanced else 0} transactions not summing to zero"
        )
    verdict.checked.append("ledger balanced")
    return verdict


def validate(
    restore_job_id: str,
    *,
    backup: Any,
    rds: Any,
    source: Callable[[], Connection],
    connect_restored: Callable[[Restored], Connection],
    expected_migration: str | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
) -> Verdict | None:
    """Check the restore job's cluster against the source and report the verdict to AWS Backup.

    None, and nothing reported, for a restore job no restore testing plan made (an operator's
    restore is theirs to check). Whatever goes wrong after that (no cluster, no connection, a
    missing table) is a FAILED validation with its reason, not an error: AWS Backup would
    otherwise wait out the validation window. A failure to report raises (the invocation is retried).
    """
    job = backup.describe_restore_job(RestoreJobId=restore_job_id)
    if not (job.get("CreatedBy") or {}).get("RestoreTestingPlanArn"):
        return None
    try:
        restored = restored_cluster(backup, rds, job)
        with source() as source_conn, connect_restored(restored) as restored_conn:
            verdict = check(source_conn, restored_conn, expected_migration=expected_migration, tolerance=tolerance)
    except Exception as error:  # every failure is the validation's verdict
        verdict = Verdict(problems=[f"validation could not run: {type(error).__name__}: {error}"])
    backup.put_restore_validation_result(
        RestoreJobId=restore_job_id, ValidationStatus=verdict.status, ValidationStatusMessage=verdict.message
    )
    return verdict
