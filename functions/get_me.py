"""GET /v1/auth/me: the calling user."""

from dogwalk.api import Endpoint
from dogwalk.schemas import UserOut
from dogwalk.users import get_user

endpoint = Endpoint("get_me")


@endpoint.handle
def get_me() -> UserOut:
    return UserOut.model_validate(get_user(endpoint.principal.user_id), from_attributes=True)


lambda_handler = endpoint.lambda_handler
