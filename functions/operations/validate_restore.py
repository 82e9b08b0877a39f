"""A completed AWS Backup restore job (EventBridge "Restore Job State Change", infra/backups.py): when a
restore test made it, `dogwalk.operations.restore_validation` checks the restored Aurora cluster against
the source (migrations, row counts, the ledger's balance) and reports PutRestoreValidationResult.

A verdict that cannot be reported is logged as an error (the errors-by-function query and the
`RestoreValidationUnreported` metric show it) and AWS Backup marks the validation timed out."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from dogwalk.adapters import aws, db
from dogwalk.adapters.observability import instrument, logger, metrics
from dogwalk.config import settings
from dogwalk.operations import restore_validation


def _restored_connection(restored: restore_validation.Restored) -> Any:
    """The restored cluster, as the source's master user (the restore keeps it), over TLS: its
    certificate verified against Amazon RDS's authorities, and its name against the endpoint's."""
    import json

    import psycopg
    from psycopg.rows import dict_row

    secret = json.loads(
        aws.client("secretsmanager").get_secret_value(SecretId=settings().database_secret_id)["SecretString"]
    )
    return psycopg.connect(
        host=restored.endpoint,
        port=restored.port,
        dbname=secret.get("dbname", "dogwalk"),
        user=secret["username"],
        password=secret["password"],
        sslmode="verify-full",
        sslrootcert=str(db.RDS_TRUST),
        connect_timeout=10,
        autocommit=True,
        row_factory=dict_row,
    )


def _source_connection() -> Any:
    from psycopg.rows import dict_row

    return db.connect(autocommit=True, row_factory=dict_row)


def validate_restore(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    detail = event.get("detail") or {}
    job_id = detail.get("restoreJobId")
    if event.get("detail-type") != "Restore Job State Change" or detail.get("status") != "COMPLETED" or not job_id:
        return {"validated": False, "reason": "not a completed restore job"}
    try:
        verdict = restore_validation.validate(
            str(job_id),
            backup=aws.client("backup"),
            rds=aws.client("rds"),
            source=_source_connection,
            connect_restored=_restored_connection,
        )
    except Exception:  # the job could not be read or the verdict not reported
        logger.exception("restore validation not reported", extra={"restore_job_id": job_id})
        metrics.add_metric(name="RestoreValidationUnreported", unit="Count", value=1)
        return {"restoreJobId": job_id, "validated": False, "reason": "not reported"}
    if verdict is None:
        return {"restoreJobId": job_id, "validated": False, "reason": "not a restore test"}
    log = logger.info if verdict.status == restore_validation.SUCCESSFUL else logger.error
    log("restore validated", extra={"restore_job_id": job_id, "status": verdict.status, "message": verdict.message})
    metrics.add_metric(name=f"RestoreValidation{verdict.status.capitalize()}", unit="Count", value=1)
    return {"restoreJobId": job_id, "validated": True, "status": verdict.status, "message": verdict.message}


lambda_handler = instrument(validate_restore)
