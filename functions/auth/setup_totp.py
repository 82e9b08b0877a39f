"""POST /v1/auth/mfa/totp/setup: a new TOTP secret and its otpauth URI, pending until enabled."""

from pydantic import BaseModel

from dogwalk.adapters import db
from dogwalk.auth import totp
from dogwalk.auth.users import get_user
from dogwalk.edge.api import Route

route = Route(__name__)


class TotpSetup(BaseModel):
    secret: str
    otpauth_uri: str


@route.handle
def setup_totp() -> TotpSetup:
    user = get_user(route.principal.user_id)
    with db.transaction() as conn:
        setup = totp.begin_setup(conn, user.id, user.email)
    return TotpSetup(secret=setup.secret, otpauth_uri=setup.otpauth_uri)


lambda_handler = route.lambda_handler
