"""POST /v1/auth/password/forgot: mail a reset link. The same answer, in the same time, whether or
not the email has an account (dogwalk.auth.password_reset says how)."""

from typing import Literal

from aws_lambda_powertools.event_handler import Response
from pydantic import BaseModel

from dogwalk.auth import password_reset
from dogwalk.edge.api import Route
from dogwalk.edge.schemas import Email, Write

route = Route(__name__)


class Forgotten(Write):
    email: Email


class Accepted(BaseModel):
    status: Literal["accepted"] = "accepted"
    detail: str


DETAIL = "If an account has this email, a link to reset its password is on its way; it works once, for 30 minutes."


@route.handle
def forgot_password(forgotten: Forgotten) -> Response[Accepted]:
    password_reset.forgot_password(forgotten.email, route.source_ip)
    return Response(status_code=202, body=Accepted(detail=DETAIL), content_type="application/json")


lambda_handler = route.lambda_handler
