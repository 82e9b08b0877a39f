"""POST /v1/auth/oidc/{provider}: Sign in with Apple or Google. The provider's ID token (verified
against its published keys: issuer, audience, expiry, nonce) for a token pair: 200 for an account
that exists (linked now, when the provider verified its email), 201 for a new one."""

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import Field, StringConstraints

from dogwalk.auth import oidc
from dogwalk.edge.api import Route
from dogwalk.edge.schemas import TokenPair, TotpCode, Write, token_pair

route = Route(__name__)


class OidcSignIn(Write):
    id_token: Annotated[str, StringConstraints(min_length=1, max_length=8192)]
    # the raw nonce the app started the sign-in with (Apple's token carries its SHA-256, Google's the nonce)
    nonce: str | None = Field(default=None, min_length=1, max_length=512)
    role: Literal["owner", "walker"] = "owner"  # for a new account
    # Apple gives the name to the app on the first sign-in only; the app passes it on
    name: str | None = Field(default=None, min_length=1, max_length=200)
    totp_code: TotpCode | None = None  # when the account has TOTP on


@route.handle(responses={201: TokenPair})
def sign_in_with_oidc(provider: Annotated[str, Path(max_length=20)], sign_in: OidcSignIn) -> Response[TokenPair]:
    s = sign_in
    tokens, created = oidc.sign_in(provider, s.id_token, s.nonce, role=s.role, name=s.name, totp_code=s.totp_code,
                                   source_ip=route.source_ip)  # fmt: skip
    return Response(status_code=201 if created else 200, body=token_pair(tokens), content_type="application/json")


lambda_handler = route.lambda_handler
