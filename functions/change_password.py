"""POST /v1/auth/password: change the password; every refresh family of the user is revoked."""

from aws_lambda_powertools.event_handler import Response

from dogwalk import accounts
from dogwalk.api import Endpoint
from dogwalk.schemas import NewPassword, Password, Write

endpoint = Endpoint("change_password")


class PasswordChange(Write):
    current_password: Password
    new_password: NewPassword


@endpoint.handle
def change_password(change: PasswordChange) -> Response[None]:
    accounts.change_password(endpoint.principal.user_id, change.current_password, change.new_password)
    return Response(status_code=204)


lambda_handler = endpoint.lambda_handler
