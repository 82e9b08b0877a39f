"""Applies the SQL migrations, makes sure the signing key exists and, when DOGWALK_ADMIN_EMAIL and
DOGWALK_ADMIN_PASSWORD are set, that the operator admin exists with that password. The CDK app
runs it on deploy (a custom resource) before new code takes traffic; `make run` at start."""

import os
from typing import Any

import psycopg
from aws_lambda_powertools.utilities.typing import LambdaContext

from dogwalk import accounts, migrations, signing_keys
from dogwalk.config import settings
from dogwalk.observability import instrument, logger


def run_migrations(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if event.get("RequestType") == "Delete":  # removing the stack keeps the data
        return {"PhysicalResourceId": event.get("PhysicalResourceId", "migrations")}
    with psycopg.connect(settings().database_url, autocommit=True) as conn:
        applied = migrations.apply(conn)
    signing_keys.ensure_signing_key()
    admin_email, admin_password = os.environ.get("DOGWALK_ADMIN_EMAIL"), os.environ.get("DOGWALK_ADMIN_PASSWORD")
    if admin_email and admin_password:
        accounts.ensure_operator_admin(admin_email, admin_password)
        logger.info("operator admin ensured")
    logger.info("migrations applied", extra={"applied": applied})
    return {"PhysicalResourceId": "migrations", "Data": {"Applied": ",".join(applied)}}


lambda_handler = instrument(run_migrations)
