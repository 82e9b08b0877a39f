"""The scheduled key rotation: a new key signs, the previous one keeps verifying, JWKS lists
both; a key rotated in by another container is picked up on its first unknown kid."""

from __future__ import annotations

import json
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from dogwalk.adapters import aws
from dogwalk.auth import signing_keys
from dogwalk.config import settings
from local.runtime import LambdaContext
from tests.conftest import REPO
from tests.integration.auth.conftest import AuthApi, register


def _rotate() -> str:
    from auth import rotate_signing_keys

    event = json.loads((REPO / "events" / "rotate_signing_keys.json").read_text())
    return rotate_signing_keys.lambda_handler(event, LambdaContext("rotate_signing_keys"))["kid"]


def test_rotation_keeps_old_tokens_valid_and_signs_new_ones_with_the_new_key(api: AuthApi) -> None:
    before = register(api, email="sam@example.com")
    old_kid = jwt.get_unverified_header(before["access_token"])["kid"]

    new_kid = _rotate()

    after = register(api, email="kim@example.com")
    assert new_kid != old_kid
    assert jwt.get_unverified_header(after["access_token"])["kid"] == new_kid
    assert api.get("/v1/auth/me", token=before["access_token"]).status == 200
    assert api.get("/v1/auth/me", token=after["access_token"]).status == 200
    assert [key["kid"] for key in api.get("/.well-known/jwks.json").json()["keys"]] == [new_kid, old_kid]


def test_a_key_rotated_in_by_another_container_is_read_on_its_first_unknown_kid(
    api: AuthApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    # re-reads for unknown kids are spaced REFRESH_AFTER_S apart; this container read the secret just now
    monkeypatch.setattr(signing_keys, "REFRESH_AFTER_S", 0)
    user = register(api)["user"]
    signing_keys.verifying_keys()  # this container's cache is warm
    secrets = aws.client("secretsmanager")
    secret_id = settings().signing_key_secret_id
    stored = json.loads(secrets.get_secret_value(SecretId=secret_id)["SecretString"])["keys"]
    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    kid = f"elsewhere-{uuid.uuid4().hex[:8]}"
    secrets.put_secret_value(
        SecretId=secret_id,
        SecretString=json.dumps({"keys": [*stored, {"kid": kid, "private_pem": pem, "created_at": time.time()}]}),
    )
    now = int(time.time())
    claims = {
        "iss": settings().jwt_issuer,
        "aud": settings().jwt_audience,
        "sub": user["id"],
        "role": "owner",
        "jti": uuid.uuid4().hex,
        "iat": now,
        "exp": now + 900,
    }
    token = jwt.encode(claims, private, algorithm="ES256", headers={"kid": kid})

    answer = api.get("/v1/auth/me", token=token)

    assert answer.status == 200
    assert answer.json()["id"] == user["id"]
