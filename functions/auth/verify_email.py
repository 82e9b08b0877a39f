"""POST /v1/auth/email/verify: redeem the token of a verification link; `email_verified` from then on."""

from aws_lambda_powertools.event_handler import Response

from dogwalk.auth import email_verification
from dogwalk.edge.api import Route
from dogwalk.edge.schemas import OpaqueToken, Write

route = Route(__name__)


class Verification(Write):
    token: OpaqueToken


@route.handle
def verify_email(verification: Verification) -> Response[None]:
    email_verification.verify_email(verification.token, route.source_ip)
    return Response(status_code=204)


lambda_handler = route.lambda_handler
