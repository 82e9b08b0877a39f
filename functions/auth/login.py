"""POST /v1/auth/login: email and password (and a TOTP code when it is on) for a token pair."""

from dogwalk.auth import accounts
from dogwalk.edge.api import Route
from dogwalk.edge.schemas import Email, Password, TokenPair, TotpCode, Write, token_pair

route = Route(__name__)


class Credentials(Write):
    email: Email
    password: Password
    totp_code: TotpCode | None = None


@route.handle
def login(credentials: Credentials) -> TokenPair:
    c = credentials
    return token_pair(accounts.login(c.email, c.password, c.totp_code, route.source_ip))


lambda_handler = route.lambda_handler
