"""Response shapes as TypedDicts, for endpoints whose cold start should not pay for pydantic
(Powertools documents them from the type all the same)."""

from __future__ import annotations

from typing import Literal

from typing_extensions import TypedDict  # pydantic documents it on Python 3.11

from dogwalk.auth.users import User


class UserView(TypedDict):
    id: str
    email: str
    role: Literal["owner", "walker", "admin"]
    name: str
    phone: str | None
    mfa_enabled: bool
    created_at: str  # RFC 3339
    email_verified: bool


def user_view(user: User) -> UserView:
    return UserView(
        id=user.id,
        email=user.email,
        role=user.role,  # type: ignore[typeddict-item]
        name=user.name,
        phone=user.phone,
        mfa_enabled=user.mfa_enabled,
        created_at=user.created_at.isoformat(),
        email_verified=user.email_verified,
    )
