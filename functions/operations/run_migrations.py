"""Applies the SQL migrations, makes sure the signing key exists and, when DOGWALK_ADMIN_EMAIL and
DOGWALK_ADMIN_PASSWORD are set, that the operator admin exists with that password. The CDK app
runs it on deploy (a custom resource) before new code takes traffic; `make run` at start."""

import os
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from dogwalk.adapters import db, migrations
from dogwalk.adapters.observability import instrument, logger
from dogwalk.auth import accounts, signing_keys


def run_migrations(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if event.get("RequestType") == "Delete":  # removing the stack keeps the data
        return {"PhysicalResourceId": event.get("PhysicalResourceId", "migrations")}
    with db.connect(autocommit=True) as conn:
        # a secondary region's cluster of the global database is read-only: the primary region's
        # deploy migrates, and the schema reaches this region by replication
        read_only = conn.execute("SHOW transaction_read_only").fetchone() == ("on",)
        applied = [] if read_only else migrations.apply(conn)
    signing_keys.ensure_signing_key()
    if read_only:
        logger.info("read-only database (a secondary region): migrations left to the primary region")
        return {"PhysicalResourceId": "migrations", "Data": {"Applied": ""}}
    admin_email, admin_password = os.environ.get("DOGWALK_ADMIN_EMAIL"), os.environ.get("DOGWALK_ADMIN_PASSWORD")
    if admin_email and admin_password:
        accounts.ensure_operator_admin(admin_email, admin_password)
        logger.info("operator admin ensured")
    logger.info("migrations applied", extra={"applied": applied})
    return {"PhysicalResourceId": "migrations", "Data": {"Applied": ",".join(applied)}}


lambda_handler = instrument(run_migrations)
