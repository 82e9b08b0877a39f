"""Access tokens: every malformed, forged or misdirected token is refused by the authorizer."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from dogwalk.auth import signing_keys
from dogwalk.auth.tokens import issue_access_token, verify_access_token
from dogwalk.config import settings
from dogwalk.errors import Unauthorized
from tests.integration.conftest import Api


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {
        "iss": settings().jwt_issuer,
        "aud": settings().jwt_audience,
        "sub": "user-1",
        "role": "owner",
        "jti": "j1",
        "iat": now,
        "exp": now + 600,
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def signed(payload: dict[str, Any], kid: str | None = None) -> str:
    key = signing_keys.current()
    return jwt.encode(payload, key.private_key, algorithm="ES256", headers={"kid": kid or key.kid})


def test_a_fresh_token_verifies() -> None:
    token, ttl = issue_access_token("user-1", "walker")

    verified = verify_access_token(token)

    assert (verified.user_id, verified.role) == ("user-1", "walker")
    assert ttl == 900
    assert jwt.get_unverified_header(token)["kid"] == signing_keys.current().kid


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _hs256_with_public_key() -> str:
    public_pem = signing_keys.current().public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"alg": "HS256", "typ": "JWT", "kid": signing_keys.current().kid}
    import hashlib
    import hmac

    signing_input = f"{_b64(header)}.{_b64(claims())}"
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


def _tampered() -> str:
    header, _, signature = signed(claims()).split(".")
    return f"{header}.{_b64(claims(role='admin'))}.{signature}"


def _other_key() -> str:
    other = ec.generate_private_key(ec.SECP256R1())
    return jwt.encode(claims(), other, algorithm="ES256", headers={"kid": signing_keys.current().kid})


BAD_TOKENS = {
    "expired": lambda: signed(claims(exp=int(time.time()) - 120, iat=int(time.time()) - 1200)),
    "not yet valid": lambda: signed(claims(iat=int(time.time()) + 3600, exp=int(time.time()) + 4000)),
    "wrong audience": lambda: signed(claims(aud="someone-else")),
    "wrong issuer": lambda: signed(claims(iss="https://evil.example")),
    "alg none": lambda: f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims())}.",
    "HS256 with the public key": _hs256_with_public_key,
    "unknown kid": lambda: signed(claims(), kid="no-such-key"),
    "tampered payload": _tampered,
    "signed by another key": _other_key,
    "no role": lambda: signed(claims(role=None)),
    "unknown role": lambda: signed(claims(role="superuser")),
    "no expiry": lambda: signed(claims(exp=None)),
    "garbage": lambda: "not.a.jwt",
}


@pytest.mark.parametrize("kind", BAD_TOKENS)
def test_bad_token_is_refused(kind: str, api: Api) -> None:
    token = BAD_TOKENS[kind]()

    with pytest.raises(Unauthorized):
        verify_access_token(token)
    answer = api.get("/v1/auth/me", token=token)
    assert answer.status == 401
    assert answer.json()["code"] == "unauthorized"


def test_small_clock_skew_is_tolerated() -> None:
    token = signed(claims(exp=int(time.time()) - 5))

    assert verify_access_token(token).user_id == "user-1"
