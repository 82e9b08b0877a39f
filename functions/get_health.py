"""GET /v1/health: whether the database and the cache answer (Route 53 health checks use it)."""

from typing import Literal

from aws_lambda_powertools.event_handler import Response
from pydantic import BaseModel

from dogwalk.api import Endpoint
from dogwalk.health import check_dependencies

endpoint = Endpoint("get_health")


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    checks: dict[str, Literal["ok", "down"]]


@endpoint.handle(responses={503: Health})
def get_health() -> Response[Health]:
    checks = check_dependencies()
    healthy = all(state == "ok" for state in checks.values())
    body = Health(status="ok" if healthy else "degraded", checks=checks)
    return Response(status_code=200 if healthy else 503, body=body, content_type="application/json")


lambda_handler = endpoint.lambda_handler
