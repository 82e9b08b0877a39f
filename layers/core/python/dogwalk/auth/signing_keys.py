"""The ES256 key pairs that sign access tokens, kept in one Secrets Manager secret.

The secret's value is `{"keys": [{"kid", "private_pem", "created_at"}, ...]}`, newest last:
the newest signs, every key in the list verifies, so a token signed just before a rotation
stays valid until it expires. Keys are cached per container for a few minutes so that a
rotation reaches warm containers without a call per request.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from dogwalk.adapters import aws
from dogwalk.config import settings

CACHE_S = 300
# an unknown kid may be a key rotated in after this container read the secret; read again, not often
REFRESH_AFTER_S = 10
# a retired key verifies for this long after it stopped signing: longer than a token lives
KEEP_RETIRED_S = 24 * 3600


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: ec.EllipticCurvePrivateKey
    created_at: float

    @property
    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self.private_key.public_key()


_cached: tuple[float, list[SigningKey]] | None = None


def _parse(secret: str) -> list[SigningKey]:
    keys = []
    for item in json.loads(secret).get("keys", []):
        private = serialization.load_pem_private_key(item["private_pem"].encode(), password=None)
        if not isinstance(private, ec.EllipticCurvePrivateKey):
            raise TypeError(f"signing key {item['kid']} is not an EC key")
        keys.append(SigningKey(item["kid"], private, float(item["created_at"])))
    return keys


def _new_key() -> dict[str, Any]:
    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    kid = f"{datetime.now(UTC):%Y%m%d}-{uuid.uuid4().hex[:8]}"
    return {"kid": kid, "private_pem": pem.decode(), "created_at": time.time()}


def _read_secret() -> str | None:
    secrets = aws.client("secretsmanager")
    try:
        value = secrets.get_secret_value(SecretId=settings().signing_key_secret_id)
    except secrets.exceptions.ResourceNotFoundException:
        return None
    return str(value.get("SecretString") or "") or None


def verifying_keys(*, refresh: bool = False) -> list[SigningKey]:
    """Every key that verifies, newest last (cached per container; `refresh` reads the secret
    again, at most every few seconds)."""
    global _cached
    now = time.monotonic()
    age = now - _cached[0] if _cached is not None else None
    if _cached is None or age is None or age > CACHE_S or (refresh and age > REFRESH_AFTER_S):
        secret = _read_secret()
        parsed = _parse(secret) if secret else []
        if not parsed:
            raise RuntimeError("no signing key: run `ensure_signing_key()` (the migration function does)")
        _cached = (now, parsed)
    return _cached[1]


def current() -> SigningKey:
    return verifying_keys()[-1]


def forget_cache() -> None:
    global _cached
    _cached = None


def _write(items: list[dict[str, Any]]) -> None:
    secrets = aws.client("secretsmanager")
    body = json.dumps({"keys": items})
    try:
        secrets.put_secret_value(SecretId=settings().signing_key_secret_id, SecretString=body)
    except secrets.exceptions.ResourceNotFoundException:
        secrets.create_secret(Name=settings().signing_key_secret_id, SecretString=body)
    forget_cache()


def _stored_items() -> list[dict[str, Any]]:
    secret = _read_secret()
    if not secret:
        return []
    try:
        return list(json.loads(secret).get("keys", []))
    except json.JSONDecodeError:  # a placeholder value set by the deploy
        return []


def ensure_signing_key() -> None:
    """Create the first key pair when the secret is missing or empty (first start, first deploy)."""
    if not _stored_items():
        _write([_new_key()])


def rotate() -> str:
    """Add a new signing key; keep the previous one for verification; drop long-retired ones.

    Returns the new key id.
    """
    items = _stored_items()
    now = time.time()
    # a key stopped signing when its successor was created
    kept = [item for item, successor in pairwise(items) if now - float(successor["created_at"]) < KEEP_RETIRED_S]
    if items:
        kept.append(items[-1])
    new = _new_key()
    _write([*kept, new])
    return str(new["kid"])
