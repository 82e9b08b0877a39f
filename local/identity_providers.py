"""The local platform's stand-ins for Apple and Google, so that Sign in with Apple / Google runs with
no developer account: `POST /_local/oidc/{provider}/id-token {sub, email, email_verified, nonce?,
name?}` answers `{id_token}`, signed with this process's key for the provider, whose JWKS is
`GET /_local/oidc/{provider}/jwks`.

Tokens look like the providers' (claims, Apple's `email_verified` and `is_private_email` as the
strings Apple sends, Apple's nonce as its SHA-256 hex, Google's as it was sent) but are ES256 and
issued by `<DOGWALK_OIDC_LOCAL_ISSUER>/<provider>` for the audience `dogwalk-local`:
`dogwalk.auth.oidc` trusts that issuer only while the stage is local. The keys live in this
process (made at first use), so tokens minted before a restart no longer verify — like a
provider's keys rotating, and ID tokens live minutes anyway.

Served by `local.api_gateway` only; never in the registry, the CDK app or the OpenAPI document.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from dogwalk.auth.oidc import LOCAL_AUDIENCE, PROVIDERS
from dogwalk.config import settings

ALGORITHM = "ES256"
LIFETIME_S = 600

_keys: dict[str, tuple[str, ec.EllipticCurvePrivateKey]] = {}
_lock = threading.Lock()


class NotServed(Exception):
    """The local issuer has no address (DOGWALK_OIDC_LOCAL_ISSUER unset: the gateway is not serving HTTP)."""


def _key(provider: str) -> tuple[str, ec.EllipticCurvePrivateKey]:
    with _lock:
        if provider not in _keys:
            _keys[provider] = (f"local-{provider}-{uuid.uuid4().hex[:8]}", ec.generate_private_key(ec.SECP256R1()))
        return _keys[provider]


def issuer(provider: str) -> str:
    base = settings().oidc_local_issuer.rstrip("/")
    if not base:
        raise NotServed("DOGWALK_OIDC_LOCAL_ISSUER is not set: the local gateway sets it when it serves HTTP")
    return f"{base}/{provider}"


def jwks(provider: str) -> dict[str, list[dict[str, Any]]]:
    kid, private = _key(provider)
    jwk = json.loads(ECAlgorithm.to_jwk(private.public_key()))
    return {"keys": [{**jwk, "kid": kid, "alg": ALGORITHM, "use": "sig"}]}


def id_token(provider: str, claims: dict[str, Any]) -> str:
    """An ID token for `claims` (`sub`, `email`, `email_verified`, optional `nonce` and `name`)."""
    if provider not in PROVIDERS:
        raise KeyError(provider)
    kid, private = _key(provider)
    now = int(time.time())
    email = str(claims["email"])
    verified = bool(claims.get("email_verified"))
    payload: dict[str, Any] = {
        "iss": issuer(provider),
        "aud": LOCAL_AUDIENCE,
        "sub": str(claims["sub"]),
        "iat": now,
        "exp": now + LIFETIME_S,
        "email": email,
    }
    nonce = claims.get("nonce")
    if provider == "apple":
        payload["email_verified"] = "true" if verified else "false"
        payload["is_private_email"] = "true" if email.endswith("@privaterelay.appleid.com") else "false"
        if nonce:
            payload["nonce"] = hashlib.sha256(str(nonce).encode()).hexdigest()
            payload["nonce_supported"] = True
    else:
        payload["email_verified"] = verified
        if nonce:
            payload["nonce"] = str(nonce)
        if claims.get("name"):
            payload["name"] = str(claims["name"])
    return jwt.encode(payload, private, algorithm=ALGORITHM, headers={"kid": kid})
