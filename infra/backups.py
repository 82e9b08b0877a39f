"""AWS Backup for Aurora: a KMS-encrypted vault per region, and in the primary region a daily plan kept
35 days whose every recovery point is copied to the secondary region's vault.

Aurora's own backup retention (35 days) gives point-in-time recovery besides; the restore test is
`docs/runbooks/restore-test.md`. The copy's destination is named, not referenced: the secondary
region's vault is `dogwalk-<stage>-<secondary region>` in the same account, and its ARN is built
from the context (no cross-region token references).
"""

from __future__ import annotations

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_backup as backup
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_rds as rds
from constructs import Construct

from infra.compliance import acknowledge
from infra.deployment import Deployment

RETENTION = Duration.days(35)
BACKUP_ROLE_POLICY = "arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup"


def vault_name(stage: str, region: str) -> str:
    return f"dogwalk-{stage}-{region}"


class Backups(Construct):
    """The region's vault; with `cluster` (the primary region), the plan that backs it up."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        deployment: Deployment,
        key: kms.IKey,
        cluster: rds.IDatabaseCluster | None,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.vault = backup.BackupVault(
            self,
            "Vault",
            backup_vault_name=vault_name(deployment.stage, stack.region),
            encryption_key=key,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.plan: backup.BackupPlan | None = None
        if cluster is None:
            return
        destination_arn = stack.format_arn(
            service="backup",
            region=deployment.secondary_region,
            resource="backup-vault",
            resource_name=vault_name(deployment.stage, deployment.secondary_region),
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        destination = backup.BackupVault.from_backup_vault_arn(self, "SecondaryVault", destination_arn)
        self.plan = backup.BackupPlan(
            self,
            "Plan",
            backup_plan_name=f"dogwalk-{deployment.stage}-aurora",
            backup_vault=self.vault,
            backup_plan_rules=[
                backup.BackupPlanRule(
                    rule_name="Daily",
                    schedule_expression=events.Schedule.cron(hour="5", minute="0"),
                    start_window=Duration.hours(1),
                    completion_window=Duration.hours(8),
                    delete_after=RETENTION,
                    copy_actions=[
                        backup.BackupPlanCopyActionProps(destination_backup_vault=destination, delete_after=RETENTION)
                    ],
                )
            ],
        )
        selection = self.plan.add_selection(
            "Aurora", resources=[backup.BackupResource.from_rds_database_cluster(cluster)]
        )
        acknowledge(
            selection,
            f"IAM4[Policy::{BACKUP_ROLE_POLICY}]",
            "AWS Backup's own service policy for taking backups; scoped by the selection, not by the role",
        )
