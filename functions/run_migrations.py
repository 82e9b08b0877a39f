"""Applies the SQL migrations and makes sure the signing key exists; the CDK app runs it on
every deploy (a custom resource) before new code takes traffic."""

from typing import Any

import psycopg
from aws_lambda_powertools.utilities.typing import LambdaContext

from dogwalk import migrations, signing_keys
from dogwalk.config import settings
from dogwalk.observability import instrument, logger


def run_migrations(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if event.get("RequestType") == "Delete":  # removing the stack keeps the data
        return {"PhysicalResourceId": event.get("PhysicalResourceId", "migrations")}
    with psycopg.connect(settings().database_url, autocommit=True) as conn:
        applied = migrations.apply(conn)
    signing_keys.ensure_signing_key()
    logger.info("migrations applied", extra={"applied": applied})
    return {"PhysicalResourceId": "migrations", "Data": {"Applied": ",".join(applied)}}


lambda_handler = instrument(run_migrations)
