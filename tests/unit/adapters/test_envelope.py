"""Envelope encryption on moto's KMS: a record opens under its own context only, each seal has a
data key of its own, and altered bytes do not open."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

from dogwalk.adapters import envelope

CONTEXT = {"purpose": "home_access", "owner_id": "0b7e6f1c-1111-4c59-9d8e-0a6f3b1c2d4e"}
SECRET = b'{"lockbox_code":"4711-QZ"}'


@pytest.fixture
def key_id(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    from dogwalk.adapters import aws

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        aws.client.cache_clear()
        yield str(aws.client("kms").create_key()["KeyMetadata"]["KeyId"])
    aws.client.cache_clear()


def test_a_sealed_record_opens_under_its_context(key_id: str) -> None:
    sealed = envelope.seal(key_id, SECRET, CONTEXT)

    assert SECRET not in sealed.ciphertext and b"4711" not in sealed.encrypted_data_key
    assert envelope.open_sealed(key_id, sealed, CONTEXT) == SECRET


def test_another_context_does_not_open_it(key_id: str) -> None:
    sealed = envelope.seal(key_id, SECRET, CONTEXT)

    with pytest.raises(envelope.Unsealable):
        envelope.open_sealed(key_id, sealed, {**CONTEXT, "owner_id": "2ddd9910-9eb2-4517-8950-6236c9002bc5"})


def test_altered_bytes_do_not_open(key_id: str) -> None:
    sealed = envelope.seal(key_id, SECRET, CONTEXT)
    flipped = bytes([sealed.ciphertext[-1] ^ 1])
    altered = envelope.Sealed(sealed.ciphertext[:-1] + flipped, sealed.encrypted_data_key, sealed.key_id)

    with pytest.raises(envelope.Unsealable):
        envelope.open_sealed(key_id, altered, CONTEXT)


def test_each_seal_has_its_own_data_key_and_nonce(key_id: str) -> None:
    first, second = envelope.seal(key_id, SECRET, CONTEXT), envelope.seal(key_id, SECRET, CONTEXT)

    assert first.encrypted_data_key != second.encrypted_data_key
    assert first.ciphertext[: envelope.NONCE_BYTES] != second.ciphertext[: envelope.NONCE_BYTES]
