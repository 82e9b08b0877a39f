"""The customer managed KMS key that seals the owners' home access (envelope encryption,
`dogwalk.adapters.envelope`), and who may use it.

Only the functions that declare `registry.HOME_ACCESS` may make data keys under it and decrypt
them (`kms:GenerateDataKey`, `kms:Decrypt`, in their own role's policy: the key policy's account
statement lets IAM policies grant it), only with the encryption context the platform uses
(`purpose = home_access`), and they find it in DOGWALK_HOME_ACCESS_KEY_ID. No other function's role
names it; no service principal is in its policy.

Aurora is a global database, so a home sealed in the primary region is read in the secondary
after a failover: the key is a multi-Region key. The primary region makes the primary key
(rotation on, every year); the secondary region makes its replica from the context
`home_access_primary_key_arn` (the primary stack's output `HomeAccessKeyArn`; it is the same key
material, so either region opens what the other sealed). Without that context the secondary has a
multi-Region key of its own, which opens only what was sealed there: set the context before a
failover is relied on.
"""

from __future__ import annotations

from collections.abc import Set

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from dogwalk import registry
from dogwalk.config import environment_names

# the encryption context's fixed part (dogwalk.care.homes.context_of); the owner's id is the other
CONTEXT_CONDITION = {"StringEquals": {"kms:EncryptionContext:purpose": "home_access"}}
ACTIONS = ("kms:GenerateDataKey", "kms:Decrypt")


class HomeAccessKey(Construct):
    """The home-access key of one region (one resource: the policy is the key's)."""

    def __init__(self, scope: Construct, construct_id: str, *, stage: str, is_primary: bool) -> None:
        super().__init__(scope, construct_id)
        description = f"dogwalk {stage}: seals the owners' home access (lockbox codes, access instructions)"
        primary_arn = scope.node.try_get_context("home_access_primary_key_arn")
        if not is_primary and primary_arn:
            account = iam.AccountRootPrincipal()
            replica = kms.CfnReplicaKey(
                self,
                "Replica",
                primary_key_arn=str(primary_arn),
                description=description,
                key_policy=iam.PolicyDocument(
                    statements=[iam.PolicyStatement(principals=[account], actions=["kms:*"], resources=["*"])]
                ).to_json(),
            )
            self.key_arn = replica.attr_arn
        else:
            key = kms.Key(self, "Key", description=description, enable_key_rotation=True)
            # a multi-Region key: the secondary region's replica opens what this one sealed
            cfn_key = key.node.default_child
            if not isinstance(cfn_key, kms.CfnKey):
                raise TypeError("kms.Key has no CfnKey")
            cfn_key.multi_region = True
            self.key_arn = key.key_arn
            if is_primary:
                CfnOutput(
                    Stack.of(self),
                    "HomeAccessKeyArn",
                    value=key.key_arn,
                    description="The home-access key; the secondary region's context home_access_primary_key_arn",
                )

    @staticmethod
    def used_by(uses: Set[str]) -> bool:
        return registry.HOME_ACCESS in uses

    def environment(self, uses: Set[str]) -> dict[str, str]:
        return {environment_names()["home_access_key_id"]: self.key_arn} if self.used_by(uses) else {}

    def grant(self, grantee: iam.IGrantable, uses: Set[str]) -> None:
        """Data keys made and opened under the platform's context, for the functions that declare HOME_ACCESS."""
        if self.used_by(uses):
            grantee.grant_principal.add_to_principal_policy(
                iam.PolicyStatement(actions=list(ACTIONS), resources=[self.key_arn], conditions=CONTEXT_CONDITION)
            )
