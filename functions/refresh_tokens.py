"""POST /v1/auth/refresh: spend a refresh token for a new pair; a spent one revokes its family."""

from dogwalk import accounts
from dogwalk.api import Endpoint
from dogwalk.schemas import OpaqueToken, TokenPair, Write, token_pair

endpoint = Endpoint("refresh_tokens")


class Refresh(Write):
    refresh_token: OpaqueToken


@endpoint.handle
def refresh_tokens(request: Refresh) -> TokenPair:
    return token_pair(accounts.refresh(request.refresh_token))


lambda_handler = endpoint.lambda_handler
