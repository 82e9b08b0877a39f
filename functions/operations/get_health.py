"""GET /v1/health: whether the database and the cache answer (Route 53 health checks use it).

The answer is a TypedDict, not a pydantic model: this function has no input to validate, and
leaving pydantic out of its import keeps the cold start of the most-called function short."""

from typing import Literal

from aws_lambda_powertools.event_handler import Response
from typing_extensions import TypedDict  # pydantic documents it on Python 3.11

from dogwalk.edge.api import Route
from dogwalk.operations.health import State, check_dependencies

route = Route(__name__)


class Checks(TypedDict):
    database: State
    cache: State


class Health(TypedDict):
    status: Literal["ok", "degraded"]
    checks: Checks


@route.handle(responses={503: Health})
def get_health() -> Response[Health]:
    checks = check_dependencies()
    healthy = all(state == "ok" for state in checks.values())
    body = Health(
        status="ok" if healthy else "degraded", checks=Checks(database=checks["database"], cache=checks["cache"])
    )
    return Response(status_code=200 if healthy else 503, body=body, content_type="application/json")


lambda_handler = route.lambda_handler
