"""POST /v1/admin/users/{user_id}/suspend: no login, no refresh, and live tokens refused at once."""

from aws_lambda_powertools.event_handler import Response

from dogwalk.auth import accounts
from dogwalk.edge.api import Route

route = Route(__name__)


@route.handle
def suspend_user(user_id: str) -> Response[None]:
    accounts.suspend(user_id)
    return Response(status_code=204)


lambda_handler = route.lambda_handler
