"""POST /v1/auth/mfa/totp/disable: turn TOTP off with a valid code."""

from aws_lambda_powertools.event_handler import Response

from dogwalk.adapters import db
from dogwalk.auth import totp
from dogwalk.edge.api import Route
from dogwalk.edge.schemas import TotpCode, Write

route = Route(__name__)


class Code(Write):
    code: TotpCode


@route.handle
def disable_totp(request: Code) -> Response[None]:
    with db.transaction() as conn:
        totp.disable(conn, route.principal.user_id, request.code)
    return Response(status_code=204)


lambda_handler = route.lambda_handler
