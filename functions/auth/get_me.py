"""GET /v1/auth/me: the calling user."""

from dogwalk.auth.users import get_user
from dogwalk.edge.api import Route
from dogwalk.edge.views import UserView, user_view

route = Route(__name__)


@route.handle
def get_me() -> UserView:
    return user_view(get_user(route.principal.user_id))


lambda_handler = route.lambda_handler
