"""The home-access KMS key on moto (`make run` and the tests), named by the alias in
DOGWALK_HOME_ACCESS_KEY_ID.

moto forgets its keys on every restart, while the homes sealed with them stay in PostgreSQL
(`.local/`). When the platform runs moto in its own process, the key's id and material are kept in
`.local/home-access-key.json` (mode 0600, like the signing keys) and given back to moto on the next
start, through moto's in-process backend (it has no API to import symmetric key material), so the
homes written before a restart still open. Local only: in the cloud the key is KMS's (infra/care/).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any


def ensure_home_access_key(kept: Path | None = None) -> str:
    """Make sure the alias names a key (restoring the one kept in `kept`, when given); its key id."""
    from dogwalk.adapters import aws
    from dogwalk.config import settings

    kms = aws.client("kms")
    alias = settings().home_access_key_id
    try:
        return str(kms.describe_key(KeyId=alias)["KeyMetadata"]["KeyId"])
    except kms.exceptions.NotFoundException:
        pass
    key_id = str(kms.create_key(Description="dogwalk local: seals the owners' home access")["KeyMetadata"]["KeyId"])
    if kept is not None:
        key_id = _restore_or_keep(key_id, kept)
    if alias.startswith("alias/"):
        kms.create_alias(AliasName=alias, TargetKeyId=key_id)
    return key_id


def _backend() -> Any:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.kms.models import kms_backends

    from dogwalk.adapters import aws

    return kms_backends[DEFAULT_ACCOUNT_ID][aws.client("kms").meta.region_name]


def _restore_or_keep(key_id: str, kept: Path) -> str:
    """The kept key in place of the new one (same id, same material), or the new one written to `kept`."""
    backend = _backend()
    key = backend.keys[key_id]
    if kept.exists():
        saved = json.loads(kept.read_text())
        del backend.keys[key_id]
        key.id = saved["key_id"]
        key.arn = key.arn.rsplit("/", 1)[0] + "/" + key.id
        key.key_material = base64.b64decode(saved["material"])
        backend.keys[key.id] = key
        return str(key.id)
    kept.touch(mode=0o600)
    kept.write_text(json.dumps({"key_id": key.id, "material": base64.b64encode(key.key_material).decode()}))
    return key_id
