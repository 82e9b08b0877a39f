"""GET /v1/auth/me: the calling user."""

from dogwalk.api import Endpoint
from dogwalk.users import get_user
from dogwalk.views import UserView, user_view

endpoint = Endpoint("get_me")


@endpoint.handle
def get_me() -> UserView:
    return user_view(get_user(endpoint.principal.user_id))


lambda_handler = endpoint.lambda_handler
