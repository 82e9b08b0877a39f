"""POST /v1/auth/mfa/totp/setup: a new TOTP secret and its otpauth URI, pending until enabled."""

from pydantic import BaseModel

from dogwalk import db, totp
from dogwalk.api import Endpoint
from dogwalk.users import get_user

endpoint = Endpoint("setup_totp")


class TotpSetup(BaseModel):
    secret: str
    otpauth_uri: str


@endpoint.handle
def setup_totp() -> TotpSetup:
    user = get_user(endpoint.principal.user_id)
    with db.transaction() as conn:
        setup = totp.begin_setup(conn, user.id, user.email)
    return TotpSetup(secret=setup.secret, otpauth_uri=setup.otpauth_uri)


lambda_handler = endpoint.lambda_handler
