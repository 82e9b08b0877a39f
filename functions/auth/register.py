"""POST /v1/auth/register: a new owner or walker account, answered with a token pair."""

from typing import Literal

from pydantic import Field

from dogwalk.auth import accounts
from dogwalk.edge.api import Route
from dogwalk.edge.schemas import Email, NewPassword, TokenPair, Write, token_pair

route = Route(__name__)


class Registration(Write):
    email: Email
    password: NewPassword
    role: Literal["owner", "walker"]
    name: str = Field(min_length=1, max_length=200)
    phone: str | None = Field(default=None, pattern=r"^\+[1-9][0-9]{6,14}$", description="E.164")


@route.handle
def register(registration: Registration) -> TokenPair:
    r = registration
    return token_pair(accounts.register(r.email, r.password, r.role, r.name, r.phone, route.source_ip))


lambda_handler = route.lambda_handler
