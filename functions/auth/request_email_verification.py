"""POST /v1/auth/email/verification: mail the caller a link that verifies their email (rate limited)."""

from typing import Literal

from aws_lambda_powertools.event_handler import Response
from pydantic import BaseModel

from dogwalk.auth import email_verification
from dogwalk.edge.api import Route

route = Route(__name__)


class Accepted(BaseModel):
    status: Literal["accepted"] = "accepted"
    detail: str


@route.handle
def request_email_verification() -> Response[Accepted]:
    email_verification.request_verification(route.principal.user_id)
    detail = "Unless your email is verified already, a link to verify it is on its way; it works for 24 hours."
    return Response(status_code=202, body=Accepted(detail=detail), content_type="application/json")


lambda_handler = route.lambda_handler
