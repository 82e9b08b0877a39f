"""DELETE /v1/auth/me: delete the caller's account, re-authenticated by their password (or, without
one, a TOTP code or a fresh Apple/Google ID token); what is erased and what is kept is in
dogwalk.auth.deletion. 202: the account is deleted; its email and push cleanup follow."""

from datetime import datetime
from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from pydantic import BaseModel, Field, StringConstraints

from dogwalk.auth import deletion
from dogwalk.edge.api import Route
from dogwalk.edge.schemas import Password, TotpCode, Write

route = Route(__name__)

IdToken = Annotated[str, StringConstraints(min_length=1, max_length=8192)]


class Confirmation(Write):
    password: Password | None = None
    totp_code: TotpCode | None = None
    # an account made with Apple or Google and no TOTP: sign in with it again
    provider: Literal["apple", "google"] | None = None
    id_token: IdToken | None = None
    nonce: str | None = Field(default=None, min_length=1, max_length=512)


class Deleted(BaseModel):
    status: Literal["deleted"] = "deleted"
    deleted_at: datetime


@route.handle
def delete_me(confirmation: Confirmation) -> Response[Deleted]:
    c = confirmation
    deleted_at = deletion.delete_account(route.principal.user_id, password=c.password, totp_code=c.totp_code,
                                         id_token=c.id_token, provider=c.provider, nonce=c.nonce)  # fmt: skip
    return Response(status_code=202, body=Deleted(deleted_at=deleted_at), content_type="application/json")


lambda_handler = route.lambda_handler
