"""Envelope encryption: each record sealed with AES-256-GCM under a data key of its own, which KMS
made (`GenerateDataKey`) and keeps only encrypted under a customer managed key.

The encryption context binds a record to what it belongs to (e.g. `{"owner_id": ...}`): KMS
refuses to decrypt the data key under any other context, and the same context is the AES-GCM
associated data, so neither the record nor its key opens elsewhere. Plaintext data keys live only
for the call. Nothing here logs, and no error carries the plaintext.

Imported only by the functions that seal or open records (boto3 and `cryptography` load with it).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from dogwalk.adapters import aws
from dogwalk.errors import Unavailable

NONCE_BYTES = 12


class Unsealable(Exception):
    """The record does not open: another context (copied to another owner), or altered bytes."""


@dataclass(frozen=True)
class Sealed:
    # nonce || ciphertext || tag
    ciphertext: bytes
    encrypted_data_key: bytes
    # the KMS key that encrypted the data key (its ARN, as KMS answered)
    key_id: str


def _associated_data(context: dict[str, str]) -> bytes:
    return json.dumps(context, sort_keys=True, separators=(",", ":")).encode()


def seal(key_id: str, plaintext: bytes, context: dict[str, str]) -> Sealed:
    """`plaintext` sealed under a new data key of `key_id`, bound to `context`."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        answer = aws.client("kms").generate_data_key(KeyId=key_id, KeySpec="AES_256", EncryptionContext=context)
    except (BotoCoreError, ClientError) as exc:
        raise Unavailable("The encryption keys cannot be reached; try again later.") from exc
    nonce = os.urandom(NONCE_BYTES)
    ciphertext = AESGCM(answer["Plaintext"]).encrypt(nonce, plaintext, _associated_data(context))
    return Sealed(nonce + ciphertext, answer["CiphertextBlob"], answer["KeyId"])


def open_sealed(key_id: str, sealed: Sealed, context: dict[str, str]) -> bytes:
    """The plaintext of `sealed`; `Unsealable` when `context` is not the one it was sealed with."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        answer = aws.client("kms").decrypt(
            KeyId=key_id, CiphertextBlob=sealed.encrypted_data_key, EncryptionContext=context
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in {"InvalidCiphertextException", "IncorrectKeyException"}:
            raise Unsealable("the data key does not open under this context") from None
        raise Unavailable("The encryption keys cannot be reached; try again later.") from exc
    except BotoCoreError as exc:
        raise Unavailable("The encryption keys cannot be reached; try again later.") from exc
    nonce, ciphertext = sealed.ciphertext[:NONCE_BYTES], sealed.ciphertext[NONCE_BYTES:]
    try:
        return AESGCM(answer["Plaintext"]).decrypt(nonce, ciphertext, _associated_data(context))
    except InvalidTag:
        raise Unsealable("the record does not open under this context") from None
