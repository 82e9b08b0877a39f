"""GET /.well-known/jwks.json: the public keys that verify access tokens (current and previous)."""

from aws_lambda_powertools.event_handler import Response
from pydantic import BaseModel, ConfigDict

from dogwalk.auth.jwks import public_jwks
from dogwalk.edge.api import Route

route = Route(__name__)


class Jwk(BaseModel):
    model_config = ConfigDict(extra="allow")
    kty: str
    kid: str
    alg: str
    use: str


class Jwks(BaseModel):
    keys: list[Jwk]


@route.handle
def get_jwks() -> Response[Jwks]:
    return Response(
        status_code=200,
        body=Jwks.model_validate(public_jwks()),
        content_type="application/json",
        headers={"Cache-Control": "public, max-age=300"},
    )


lambda_handler = route.lambda_handler
