"""POST /v1/auth/logout: revoke the refresh token's family."""

from aws_lambda_powertools.event_handler import Response

from dogwalk.auth import sessions
from dogwalk.edge.api import Route
from dogwalk.edge.schemas import OpaqueToken, Write

route = Route(__name__)


class Logout(Write):
    refresh_token: OpaqueToken


@route.handle
def logout(request: Logout) -> Response[None]:
    sessions.logout(route.principal.user_id, request.refresh_token)
    return Response(status_code=204)


lambda_handler = route.lambda_handler
