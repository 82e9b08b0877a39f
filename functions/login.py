"""POST /v1/auth/login: email and password (and a TOTP code when it is on) for a token pair."""

from dogwalk import accounts
from dogwalk.api import Endpoint
from dogwalk.schemas import Email, Password, TokenPair, TotpCode, Write, token_pair

endpoint = Endpoint("login")


class Credentials(Write):
    email: Email
    password: Password
    totp_code: TotpCode | None = None


@endpoint.handle
def login(credentials: Credentials) -> TokenPair:
    c = credentials
    return token_pair(accounts.login(c.email, c.password, c.totp_code, endpoint.source_ip))


lambda_handler = endpoint.lambda_handler
