"""The JSON Web Key Set that publishes the public halves of the signing keys."""

from __future__ import annotations

import json
from typing import Any

from jwt.algorithms import ECAlgorithm

from dogwalk.auth import signing_keys


def public_jwks() -> dict[str, list[dict[str, Any]]]:
    keys = []
    for key in reversed(signing_keys.verifying_keys()):  # the signing key first
        jwk = json.loads(ECAlgorithm.to_jwk(key.public_key))
        keys.append({**jwk, "kid": key.kid, "alg": "ES256", "use": "sig"})
    return {"keys": keys}
