"""POST /v1/auth/refresh: spend a refresh token for a new pair; a spent one revokes its family."""

from dogwalk.auth import accounts
from dogwalk.edge.api import Route
from dogwalk.edge.schemas import OpaqueToken, TokenPair, Write, token_pair

route = Route(__name__)


class Refresh(Write):
    refresh_token: OpaqueToken


@route.handle
def refresh_tokens(request: Refresh) -> TokenPair:
    return token_pair(accounts.refresh(request.refresh_token))


lambda_handler = route.lambda_handler
