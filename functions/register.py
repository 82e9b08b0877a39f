"""POST /v1/auth/register: a new owner or walker account, answered with a token pair."""

from typing import Literal

from pydantic import Field

from dogwalk import accounts
from dogwalk.api import Endpoint
from dogwalk.schemas import Email, NewPassword, TokenPair, Write, token_pair

endpoint = Endpoint("register")


class Registration(Write):
    email: Email
    password: NewPassword
    role: Literal["owner", "walker"]
    name: str = Field(min_length=1, max_length=200)
    phone: str | None = Field(default=None, pattern=r"^\+[1-9][0-9]{6,14}$", description="E.164")


@endpoint.handle
def register(registration: Registration) -> TokenPair:
    r = registration
    return token_pair(accounts.register(r.email, r.password, r.role, r.name, r.phone, endpoint.source_ip))


lambda_handler = endpoint.lambda_handler
