"""ES256 access tokens: issued with `kid`, verified with the algorithm pinned.

Verification accepts only ES256 (no `none`, no HS256 made with a public key), requires
`iss`, `aud`, `exp`, `iat`, `sub`, `role` and `jti`, allows a little clock skew, and
refuses a `kid` it does not know.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import jwt

from dogwalk.auth import signing_keys
from dogwalk.config import settings
from dogwalk.errors import Unauthorized

ALGORITHM = "ES256"
LEEWAY_S = 30
ROLES = frozenset({"owner", "walker", "admin"})


@dataclass(frozen=True)
class Claims:
    user_id: str
    role: str
    token_id: str
    expires_at: int


def issue_access_token(user_id: str, role: str, *, now: float | None = None) -> tuple[str, int]:
    """A signed access token and its lifetime in seconds."""
    issued = int(now if now is not None else time.time())
    ttl = settings().access_token_ttl_s
    key = signing_keys.current()
    claims = {
        "iss": settings().jwt_issuer,
        "aud": settings().jwt_audience,
        "sub": user_id,
        "role": role,
        "jti": uuid.uuid4().hex,
        "iat": issued,
        "exp": issued + ttl,
    }
    return jwt.encode(claims, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid}), ttl


def verify_access_token(token: str) -> Claims:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise Unauthorized("The access token is malformed.") from exc
    if header.get("alg") != ALGORITHM:
        raise Unauthorized("The access token is not signed with ES256.")
    kid = header.get("kid")
    key = next((k for k in signing_keys.verifying_keys() if k.kid == kid), None)
    if key is None:  # a key rotated in since this container read the secret?
        key = next((k for k in signing_keys.verifying_keys(refresh=True) if k.kid == kid), None)
    if key is None:
        raise Unauthorized("The access token's key is unknown.")
    try:
        claims = jwt.decode(
            token,
            key.public_key,
            algorithms=[ALGORITHM],
            audience=settings().jwt_audience,
            issuer=settings().jwt_issuer,
            leeway=LEEWAY_S,
            options={"require": ["iss", "aud", "exp", "iat", "sub", "jti"]},
        )
    except jwt.PyJWTError as exc:
        raise Unauthorized("The access token is invalid or expired.") from exc
    if claims.get("role") not in ROLES:
        raise Unauthorized("The access token carries no valid role.")
    if int(claims["iat"]) > time.time() + LEEWAY_S:
        raise Unauthorized("The access token is not valid yet.")
    return Claims(str(claims["sub"]), str(claims["role"]), str(claims["jti"]), int(claims["exp"]))
