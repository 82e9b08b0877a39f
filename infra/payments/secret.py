"""The Secrets Manager secret holding the payment gateway's credentials, and who may read it."""

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


class PaymentsSecret(Construct):
    """One secret per stage and region for Stripe: `{"api_key": ..., "webhook_secret": ...,
    "connect_webhook_secret": ...}`, the last two the signing secrets of the platform's webhook
    endpoint and of its Connect endpoint (each endpoint at Stripe signs with its own).

    The stack creates it with a generated placeholder value (empty `api_key` and
    `webhook_secret`), so no credential ever appears in the template. After the first deploy an
    operator puts the real Stripe key (test or live, by stage) and the two signing secrets in it,
    e.g. `aws secretsmanager put-secret-value`; later deploys leave the value alone. Until
    `connect_webhook_secret` is there, the Connect webhook answers 503 and Stripe retries.
    Functions that declare `registry.PAYMENTS` may read it; no function may write it.
    """

    def __init__(self, scope: Construct, construct_id: str, *, stage: str, key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        self.key = key
        self.secret_name = f"dogwalk/{stage}/payments"
        self.secret = secretsmanager.Secret(
            self,
            "Secret",
            secret_name=self.secret_name,
            # the region's `secrets` key (infra/encryption.py); readers get kms:Decrypt through Secrets Manager
            encryption_key=key,
            description="Stripe API key and webhook secret; an operator sets them after the first deploy",
            # CloudFormation needs some value; the generated field keeps it out of the template
            generate_secret_string=secretsmanager.SecretStringGenerator(
                # not to be changed: a new template makes CloudFormation generate a new value, which
                # would replace the operator's keys (`connect_webhook_secret` is added by the operator)
                secret_string_template=json.dumps({"api_key": "", "webhook_secret": ""}),  # nosec B105
                generate_string_key="placeholder",
                exclude_punctuation=True,
            ),
        )
        acknowledge(
            self.secret,
            "SMG4",
            "Stripe keys are rotated in Stripe's dashboard, then put here by an operator; "
            "a Secrets Manager rotation Lambda cannot create Stripe keys",
        )

    @staticmethod
    def used_by(uses: Set[str]) -> bool:
        return registry.PAYMENTS in uses

    def grant(self, grantee: iam.IGrantable, uses: Set[str]) -> None:
        """Read only, for the functions that declare the payment gateway."""
        if self.used_by(uses):
            grant_secret(grantee, self.secret, self.key, write=False)
