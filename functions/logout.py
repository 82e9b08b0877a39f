"""POST /v1/auth/logout: revoke the refresh token's family."""

from aws_lambda_powertools.event_handler import Response

from dogwalk import accounts
from dogwalk.api import Endpoint
from dogwalk.schemas import OpaqueToken, Write

endpoint = Endpoint("logout")


class Logout(Write):
    refresh_token: OpaqueToken


@endpoint.handle
def logout(request: Logout) -> Response[None]:
    accounts.logout(endpoint.principal.user_id, request.refresh_token)
    return Response(status_code=204)


lambda_handler = endpoint.lambda_handler
