"""GET /v1/auth/me: the calling user."""

from datetime import datetime

from pydantic import BaseModel

from dogwalk.api import Endpoint
from dogwalk.users import get_user

endpoint = Endpoint("get_me")


class UserOut(BaseModel):
    id: str
    email: str
    role: str
    name: str
    phone: str | None
    mfa_enabled: bool
    created_at: datetime


@endpoint.handle
def get_me() -> UserOut:
    user = get_user(endpoint.principal.user_id)
    return UserOut.model_validate(user, from_attributes=True)


lambda_handler = endpoint.lambda_handler
