"""Request and response models that several endpoints share (models at the edges: the domain
takes and returns plain values). Writes forbid unknown fields."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

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


class UserOut(BaseModel):
    id: str
    email: str
    role: Literal["owner", "walker", "admin"]
    name: str
    phone: str | None
    mfa_enabled: bool
    created_at: datetime


class TokenPair(BaseModel):
    user: UserOut
    access_token: str
    refresh_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - the scheme's name
    expires_in: int = Field(description="seconds the access token lives")


def token_pair(tokens: object) -> TokenPair:
    """The answer of register, login and refresh, from `dogwalk.accounts.Tokens`."""
    return TokenPair.model_validate(tokens, from_attributes=True)
