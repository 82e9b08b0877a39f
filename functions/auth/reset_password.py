"""POST /v1/auth/password/reset: a new password with the token of a reset link; every refresh family
of the user is revoked, and TOTP (when on) is still asked for at the next login."""

from aws_lambda_powertools.event_handler import Response

from dogwalk.auth import password_reset
from dogwalk.edge.api import Route
from dogwalk.edge.schemas import NewPassword, OpaqueToken, Write

route = Route(__name__)


class Reset(Write):
    token: OpaqueToken
    new_password: NewPassword


@route.handle
def reset_password(reset: Reset) -> Response[None]:
    password_reset.reset_password(reset.token, reset.new_password, route.source_ip)
    return Response(status_code=204)


lambda_handler = route.lambda_handler
