"""The regional stack's customer managed KMS keys (yearly rotation on), one per kind of data.

- `queues`: every queue and dead-letter queue (`infra/queues.py`). SNS delivers the domain events
  to the channel queues, so the key's policy lets `sns.amazonaws.com` make and read data keys for
  deliveries from the events topic only (`aws:SourceArn`; CDK's `SqsSubscription` adds that
  statement, `@aws-cdk/aws-sns-subscriptions:restrictSqsDescryption`). The IoT rule's role gets
  `kms:GenerateDataKey`/`kms:Decrypt` in its own policy, the consumers `kms:Decrypt` with their
  `sqs:ReceiveMessage` (the key policy's account statement lets IAM policies grant the key).
- `logs`: every log group of the stack (functions, CDK's custom-resource framework, REST and
  WebSocket access logs) and the Edge stack's custom-resource log group. CloudWatch Logs of this
  region may use it for this account's and region's log groups only
  (`kms:EncryptionContext:aws:logs:arn`); the log groups' names are made by CloudFormation, so the
  condition cannot name them without a dependency cycle.
- `secrets`: the signing-keys and payments secrets. Secrets Manager uses it on behalf of the caller
  (`kms:ViaService`): readers get `kms:Decrypt`, writers `kms:GenerateDataKey` too.

The data tier (Aurora, Valkey, flow logs, the database secret, backups) and the WAF logs have
their own keys (`infra/data.py`, `infra/edge.py`); the topics theirs (`infra/notifications/fanout.py`,
`infra/alarms.py`).
"""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

# what CloudWatch Logs needs of a log group's key (CloudWatch Logs User Guide, "Encrypt log data
# in CloudWatch Logs using AWS KMS")
LOGS_KEY_ACTIONS = ("kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*")
LOGS_ENCRYPTION_CONTEXT = "kms:EncryptionContext:aws:logs:arn"


def logs_service_principal(scope: Construct) -> iam.ServicePrincipal:
    return iam.ServicePrincipal(f"logs.{Stack.of(scope).region}.amazonaws.com")


class EncryptionKeys(Construct):
    """The `queues`, `logs` and `secrets` keys of one region (three resources: the policies are the keys')."""

    def __init__(self, scope: Construct, construct_id: str, *, stage: str) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.queues = kms.Key(
            self,
            "QueuesKey",
            description=f"dogwalk {stage}: encrypts the queues and dead-letter queues",
            enable_key_rotation=True,
        )
        self.logs = kms.Key(
            self,
            "LogsKey",
            description=f"dogwalk {stage}: encrypts the functions' and the APIs' log groups",
            enable_key_rotation=True,
        )
        self.logs.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[logs_service_principal(self)],
                actions=list(LOGS_KEY_ACTIONS),
                resources=["*"],
                conditions={
                    "ArnLike": {
                        LOGS_ENCRYPTION_CONTEXT: stack.format_arn(
                            service="logs",
                            resource="log-group",
                            resource_name="*",
                            arn_format=ArnFormat.COLON_RESOURCE_NAME,
                        )
                    }
                },
            )
        )
        self.secrets = kms.Key(
            self,
            "SecretsKey",
            description=f"dogwalk {stage}: encrypts the signing-keys and payments secrets",
            enable_key_rotation=True,
        )


# what `Secret.grant_read` and `Secret.grant_write` allow on a secret itself
SECRET_READ_ACTIONS = ("secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret")
SECRET_WRITE_ACTIONS = (
    "secretsmanager:PutSecretValue",
    "secretsmanager:UpdateSecret",
    "secretsmanager:UpdateSecretVersionStage",
)


def grant_secret(grantee: iam.IGrantable, secret: secretsmanager.ISecret, key: kms.IKey, *, write: bool) -> None:
    """Read (and write) a secret encrypted with `key`, in the grantee's own policy only.

    Not `Secret.grant_read`/`grant_write`: with a customer managed key they also name the function's
    role in the key's policy (a dependency cycle key → role → secret → key) and, for writing, grant
    kms:Encrypt, kms:ReEncrypt* and kms:GenerateDataKey*. Secrets Manager calls, on the caller's
    behalf, `kms:Decrypt` for GetSecretValue and `kms:GenerateDataKey` for a new value; the key may
    be used through Secrets Manager of this region only.
    """
    principal = grantee.grant_principal
    actions = [*SECRET_READ_ACTIONS, *(SECRET_WRITE_ACTIONS if write else ())]
    principal.add_to_principal_policy(iam.PolicyStatement(actions=actions, resources=[secret.secret_arn]))
    principal.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["kms:Decrypt", *(["kms:GenerateDataKey"] if write else [])],
            resources=[key.key_arn],
            conditions={"StringEquals": {"kms:ViaService": f"secretsmanager.{Stack.of(key).region}.amazonaws.com"}},
        )
    )
