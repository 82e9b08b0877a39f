"""The deploy's custom resource: `dogwalk.operations.deploy` (migrations, the signing key, the
operator admin of DOGWALK_ADMIN_EMAIL / DOGWALK_ADMIN_PASSWORD). The CDK app runs it on every
deploy before new code takes traffic; `make run` at start. Removing the stack keeps the data."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from dogwalk.adapters.observability import instrument
from dogwalk.operations.deploy import deploy


def run_migrations(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if event.get("RequestType") == "Delete":
        return {"PhysicalResourceId": event.get("PhysicalResourceId", "migrations")}
    deployed = deploy()
    return {"PhysicalResourceId": "migrations", "Data": {"Applied": ",".join(deployed.applied)}}


lambda_handler = instrument(run_migrations)
