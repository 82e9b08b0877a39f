"""POST /v1/auth/password: change the password; every refresh family of the user is revoked."""

from aws_lambda_powertools.event_handler import Response

from dogwalk.auth import accounts
from dogwalk.edge.api import Route
from dogwalk.edge.schemas import NewPassword, Password, Write

route = Route(__name__)


class PasswordChange(Write):
    current_password: Password
    new_password: NewPassword


@route.handle
def change_password(change: PasswordChange) -> Response[None]:
    accounts.change_password(route.principal.user_id, change.current_password, change.new_password)
    return Response(status_code=204)


lambda_handler = route.lambda_handler
