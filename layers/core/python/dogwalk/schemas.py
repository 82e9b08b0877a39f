"""Request and response models that several endpoints share (models at the edges: the domain
takes and returns plain values). Writes forbid unknown fields."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from dogwalk.views import UserView, user_view

if TYPE_CHECKING:
    from dogwalk.accounts import Tokens

Email = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
]
Password = Annotated[str, StringConstraints(min_length=1, max_length=1024)]
# what the schema can say of the policy; common passwords and the email are checked by the domain
NewPassword = Annotated[str, StringConstraints(min_length=12, max_length=128)]
TotpCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")]
OpaqueToken = Annotated[str, StringConstraints(min_length=1, max_length=512)]


class Write(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TokenPair(BaseModel):
    user: UserView
    access_token: str
    refresh_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - the scheme's name
    expires_in: int = Field(description="seconds the access token lives")


def token_pair(tokens: Tokens) -> TokenPair:
    """The answer of register, login and refresh."""
    return TokenPair(
        user=user_view(tokens.user),
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        expires_in=tokens.expires_in,
    )
