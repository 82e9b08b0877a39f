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
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_rds as rds
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.compliance import acknowledge
from infra.deployment import Deployment
from infra.functions import role_of

RETENTION = Duration.days(35)
BACKUP_ROLE_POLICY = "arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup"
RESTORE_ROLE_POLICY = "service-role/AWSBackupServiceRolePolicyForRestores"
# the restore test: the latest recovery point of the last week restored on the 1st of each month,
# kept for the validation function's verdict (functions/operations/validate_restore.py) at most this long
RESTORE_TEST_SCHEDULE = "cron(0 6 1 * ? *)"
RESTORE_TEST_SELECTION_DAYS = 7
RESTORE_VALIDATION_HOURS = 4
POSTGRES_PORT = 5432


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
        vpc: ec2.IVpc | None = None,
        validator_group: ec2.ISecurityGroup | None = None,
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
        self.restore_testing_plan: backup.CfnRestoreTestingPlan | None = None
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
        if vpc is not None and validator_group is not None:
            self._restore_tests(deployment, cluster, vpc, validator_group)

    def _restore_tests(
        self, deployment: Deployment, cluster: rds.IDatabaseCluster, vpc: ec2.IVpc, validator_group: ec2.ISecurityGroup
    ) -> None:
        """Monthly: the latest recovery point restored as a new cluster, validated, then deleted by AWS Backup.

        The restored cluster goes in the cluster's subnets with a security group of its own that only
        the validation function's group may reach (the live cluster's admits the proxy alone).
        """
        self.restored_group = ec2.SecurityGroup(
            self,
            "RestoredClusters",
            vpc=vpc,
            description="Restore-test clusters: the validation function only",
            allow_all_outbound=False,
        )
        validator_group.connections.allow_to(
            self.restored_group, ec2.Port.tcp(POSTGRES_PORT), "the restore validation to restore-test clusters"
        )
        self.restore_role = iam.Role(
            self,
            "RestoreRole",
            assumed_by=iam.ServicePrincipal("backup.amazonaws.com"),
            description=f"dogwalk {deployment.stage}: AWS Backup restores the Aurora cluster for its restore test",
            managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name(RESTORE_ROLE_POLICY)],
        )
        acknowledge(
            self.restore_role,
            f"IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/{RESTORE_ROLE_POLICY}]",
            "AWS Backup's own service policy for restores; scoped by the restore testing selection",
        )
        self.restore_testing_plan = backup.CfnRestoreTestingPlan(
            self,
            "RestoreTestingPlan",
            restore_testing_plan_name=f"dogwalk_{deployment.stage}_aurora_monthly",
            schedule_expression=RESTORE_TEST_SCHEDULE,
            schedule_expression_timezone="Etc/UTC",
            start_window_hours=8,
            recovery_point_selection=backup.CfnRestoreTestingPlan.RestoreTestingRecoveryPointSelectionProperty(
                algorithm="LATEST_WITHIN_WINDOW",
                include_vaults=[self.vault.backup_vault_arn],
                recovery_point_types=["SNAPSHOT"],
                selection_window_days=RESTORE_TEST_SELECTION_DAYS,
            ),
        )
        subnets = cluster.node.try_find_child("Subnets")
        overrides = {"vpcSecurityGroupIds": Stack.of(self).to_json_string([self.restored_group.security_group_id])}
        if isinstance(subnets, rds.SubnetGroup):
            overrides["dbSubnetGroupName"] = subnets.subnet_group_name
        self.restore_testing_selection = backup.CfnRestoreTestingSelection(
            self,
            "RestoreTestingSelection",
            restore_testing_plan_name=self.restore_testing_plan.restore_testing_plan_name,
            restore_testing_selection_name="aurora",
            protected_resource_type="Aurora",
            protected_resource_arns=[cluster.cluster_arn],
            iam_role_arn=self.restore_role.role_arn,
            validation_window_hours=RESTORE_VALIDATION_HOURS,
            restore_metadata_overrides=overrides,
        )
        self.restore_testing_selection.add_dependency(self.restore_testing_plan)

    def validate_restores_with(
        self, scope: Construct, function: lambda_.Function, secret: secretsmanager.ISecret
    ) -> events.Rule | None:
        """The rule (in `scope`, the function's stack: one here would make the data tier and the
        function wait for each other) that hands each completed restore job to `function`, and what
        it may do; none without a restore testing plan (the secondary region's vault only receives
        copies)."""
        if self.restore_testing_plan is None:
            return None
        stack = Stack.of(function)
        rule = events.Rule(
            scope,
            "RestoreValidation",
            description="A completed AWS Backup restore job: the validation checks it when a restore test made it",
            event_pattern=events.EventPattern(
                source=["aws.backup"], detail_type=["Restore Job State Change"], detail={"status": ["COMPLETED"]}
            ),
            targets=[targets.LambdaFunction(function, retry_attempts=2)],
        )
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["backup:DescribeRestoreJob", "backup:PutRestoreValidationResult"],
                resources=["*"],
            )
        )
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["rds:DescribeDBClusters"],
                resources=[
                    stack.format_arn(
                        service="rds", resource="cluster", resource_name="*", arn_format=ArnFormat.COLON_RESOURCE_NAME
                    )
                ],
            )
        )
        acknowledge(
            role_of(function),
            f"IAM5[Resource::arn:aws:rds:{stack.region}:<AWS::AccountId>:cluster:*]",
            "AWS Backup names each restore test's cluster at restore time; describing clusters reads no data",
        )
        # a restored cluster keeps the source's master user and password
        secret.grant_read(function)
        return rule
