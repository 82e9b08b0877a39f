"""The Secrets Manager secret holding the JWT signing keys, and who may read or write it."""

from __future__ import annotations

import json
from collections.abc import Set

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from dogwalk import registry
from infra.compliance import acknowledge
from infra.encryption import grant_secret


class SigningKeys(Construct):
    """One secret per stage and region; the migration function writes the first key pair."""

    def __init__(self, scope: Construct, construct_id: str, *, stage: str, key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        self.key = key
        self.secret_name = f"dogwalk/{stage}/jwt-signing-keys"
        self.secret = secretsmanager.Secret(
            self,
            "Secret",
            secret_name=self.secret_name,
            # the region's `secrets` key (infra/encryption.py); readers get kms:Decrypt through Secrets Manager
            encryption_key=key,
            description="ES256 key pairs that sign DogWalk access tokens (written by the migration function)",
            # CloudFormation needs some value; an empty key list reads as "no key yet" to
            # `dogwalk.auth.signing_keys`, and the generated field keeps the value out of the template.
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template=json.dumps({"keys": []}),
                generate_string_key="placeholder",
                exclude_punctuation=True,
            ),
        )
        acknowledge(
            self.secret,
            "SMG4",
            "the platform rotates signing keys itself (dogwalk.auth.signing_keys.rotate keeps the previous key "
            "verifying); a Secrets Manager rotation Lambda would drop it",
        )

    @staticmethod
    def used_by(uses: Set[str]) -> bool:
        return bool(uses & {registry.SIGNING_KEYS_READ, registry.SIGNING_KEYS_WRITE})

    def grant(self, grantee: iam.IGrantable, uses: Set[str]) -> None:
        """Read for readers; read and write for writers (a writer reads the list it extends)."""
        if self.used_by(uses):
            grant_secret(grantee, self.secret, self.key, write=registry.SIGNING_KEYS_WRITE in uses)
