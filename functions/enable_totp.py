"""POST /v1/auth/mfa/totp/enable: turn TOTP on with a valid code."""

from aws_lambda_powertools.event_handler import Response

from dogwalk import db, totp
from dogwalk.api import Endpoint
from dogwalk.schemas import TotpCode, Write

endpoint = Endpoint("enable_totp")


class Code(Write):
    code: TotpCode


@endpoint.handle
def enable_totp(request: Code) -> Response[None]:
    with db.transaction() as conn:
        totp.enable(conn, endpoint.principal.user_id, request.code)
    return Response(status_code=204)


lambda_handler = endpoint.lambda_handler
