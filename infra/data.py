"""The data tier of a region, in a nested stack: network, Aurora PostgreSQL (global database), RDS Proxy,
ElastiCache Serverless (Valkey) and backups.

The regional stack is close to CloudFormation's 500 resources, so all of this lives in one
`AWS::CloudFormation::Stack`. The primary region's cluster is the global database's writer; the
secondary region's cluster joins it read-only (no master credentials: they replicate). Functions
reach PostgreSQL only through the region's RDS Proxy (TLS and IAM auth required) and Valkey with
TLS and IAM auth tokens; neither store accepts anything but the functions' security groups.

Context (all optional): `database_min_capacity` / `database_max_capacity` (Aurora capacity units,
default 0.5 / 8 outside prod, 2 / 64 in prod), `deletion_protection` (default: on in prod),
`nat_gateways` (default 2 in prod, 1 otherwise), `database_secret_replica_arn` (the complete ARN of the
database secret's replica in the secondary region; default its name, a partial ARN).
"""

from __future__ import annotations

from collections.abc import Set
from typing import Any

from aws_cdk import ArnFormat, Duration, NestedStack, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticache as elasticache
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from dogwalk import registry
from dogwalk.config import environment_names
from infra.backups import Backups
from infra.compliance import acknowledge
from infra.deployment import Deployment
from infra.network import POSTGRES_PORT, VALKEY_PORT, Network

ENGINE_VERSION = rds.AuroraPostgresEngineVersion.VER_16_9
DATABASE_NAME = "dogwalk"
# the master user, whose secret the primary proxy holds; functions connect to the proxy as it with IAM
DATABASE_USER = "dogwalk"
BACKUP_RETENTION = Duration.days(35)
# uses that need a route to the internet (Stripe; API Gateway's @connections endpoint)
INTERNET_USES = frozenset({registry.PAYMENTS, registry.WEBSOCKET_PUSH, registry.IDENTITY_PROVIDERS})
DATA_USES = frozenset({registry.DATABASE, registry.CACHE})
VPC_ACCESS_POLICY = "service-role/AWSLambdaVPCAccessExecutionRole"


def _context(scope: Construct, key: str, default: Any) -> Any:
    value = scope.node.try_get_context(key)
    return default if value is None or value == "" else value


def _flag(value: Any) -> bool:
    return value is True or str(value).lower() in {"true", "1", "yes", "on"}


class DataTier(NestedStack):
    """One region's data tier. `is_primary`: this region's cluster creates the global database."""

    def __init__(self, scope: Construct, construct_id: str, *, deployment: Deployment, is_primary: bool) -> None:
        super().__init__(
            scope,
            construct_id,
            description=f"DogWalk data tier, {deployment.stage}, {'primary' if is_primary else 'secondary'} region",
        )
        stage = deployment.stage
        prod = stage == "prod"
        self.is_primary = is_primary
        self.deployment = deployment
        self.key = kms.Key(
            self,
            "Key",
            description=f"DogWalk {stage} data tier: Aurora storage, Valkey, flow logs, backups",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.network = Network(
            self,
            "Network",
            key=self.key,
            nat_gateways=int(_context(self, "nat_gateways", 2 if prod else 1)),
            log_retention=deployment.log_retention,
        )
        vpc = self.network.vpc
        self.database_group = ec2.SecurityGroup(
            self,
            "Database",
            vpc=vpc,
            description="Aurora: the proxy and the rotation function only",
            allow_all_outbound=False,
        )
        self.proxy_group = ec2.SecurityGroup(
            self, "Proxy", vpc=vpc, description="RDS Proxy: the functions only", allow_all_outbound=False
        )
        self.cache_group = ec2.SecurityGroup(
            self, "Cache", vpc=vpc, description="ElastiCache Serverless: the functions only", allow_all_outbound=False
        )
        self.proxy_group.connections.allow_to(self.database_group, ec2.Port.tcp(POSTGRES_PORT), "proxy to Aurora")
        for group in self.network.function_groups:
            group.connections.allow_to(self.proxy_group, ec2.Port.tcp(POSTGRES_PORT), "functions to RDS Proxy")
            group.connections.allow_to(self.cache_group, ec2.Port.tcp(VALKEY_PORT), "functions to Valkey")

        min_capacity = float(_context(self, "database_min_capacity", 2 if prod else 0.5))
        max_capacity = float(_context(self, "database_max_capacity", 64 if prod else 8))
        deletion_protection = _flag(_context(self, "deletion_protection", prod))
        self.cluster_identifier = f"dogwalk-{stage}-{'primary' if is_primary else 'secondary'}"
        logs.LogGroup(
            self,
            "PostgresLogs",
            log_group_name=f"/aws/rds/cluster/{self.cluster_identifier}/postgresql",
            retention=deployment.log_retention,
            # the data tier's key, whose policy lets CloudWatch Logs use it (infra/network.py)
            encryption_key=self.key,
            removal_policy=RemovalPolicy.DESTROY,
        )
        if is_primary:
            self.cluster: rds.IDatabaseCluster = self._primary_cluster(min_capacity, max_capacity, deletion_protection)
            secret = self.cluster.secret
            if secret is None:
                raise ValueError("the primary cluster has no generated secret")
            self.secret: secretsmanager.ISecret = secret
        else:
            self.cluster = self._secondary_cluster(min_capacity, max_capacity, deletion_protection)
            replica = str(_context(self, "database_secret_replica_arn", ""))
            self.secret = (
                secretsmanager.Secret.from_secret_complete_arn(self, "SecretReplica", replica)
                if replica
                else secretsmanager.Secret.from_secret_name_v2(self, "SecretReplica", self.secret_name)
            )
        self.proxy = rds.DatabaseProxy(
            self,
            "RdsProxy",
            proxy_target=rds.ProxyTarget.from_cluster(self.cluster),
            secrets=[self.secret],
            vpc=vpc,
            vpc_subnets=self.network.isolated,
            security_groups=[self.proxy_group],
            require_tls=True,
            iam_auth=True,
            db_proxy_name=f"dogwalk-{stage}",
            debug_logging=False,
        )
        self._cache(stage)
        self.backups = Backups(
            self,
            "Backups",
            deployment=deployment,
            key=self.key,
            cluster=self.cluster if is_primary else None,
            # the restore tests' clusters, which the validation function (a database user) reaches
            vpc=vpc,
            validator_group=self.network.functions,
        )

    @property
    def secret_name(self) -> str:
        return f"dogwalk/{self.deployment.stage}/database"

    def _primary_cluster(
        self, min_capacity: float, max_capacity: float, deletion_protection: bool
    ) -> rds.DatabaseCluster:
        cluster = rds.DatabaseCluster(
            self,
            "Cluster",
            engine=rds.DatabaseClusterEngine.aurora_postgres(version=ENGINE_VERSION),
            cluster_identifier=self.cluster_identifier,
            credentials=rds.Credentials.from_generated_secret(
                DATABASE_USER,
                secret_name=self.secret_name,
                # the secondary region's proxy reads the replica (rotation replicates too)
                replica_regions=[secretsmanager.ReplicaRegion(region=self.deployment.secondary_region)],
                exclude_characters=" %+~`#$&*()|[]{}:;<>?!'/@\"\\",
            ),
            default_database_name=DATABASE_NAME,
            writer=rds.ClusterInstance.serverless_v2(
                "Writer", publicly_accessible=False, auto_minor_version_upgrade=True
            ),
            readers=[
                rds.ClusterInstance.serverless_v2(
                    "Reader", scale_with_writer=True, publicly_accessible=False, auto_minor_version_upgrade=True
                )
            ],
            serverless_v2_min_capacity=min_capacity,
            serverless_v2_max_capacity=max_capacity,
            vpc=self.network.vpc,
            vpc_subnets=self.network.isolated,
            security_groups=[self.database_group],
            storage_encrypted=True,
            storage_encryption_key=self.key,
            iam_authentication=True,
            deletion_protection=deletion_protection,
            # point-in-time recovery for the whole retention window
            backup=rds.BackupProps(retention=BACKUP_RETENTION, preferred_window="03:00-04:00"),
            cloudwatch_logs_exports=["postgresql"],
            copy_tags_to_snapshot=True,
            removal_policy=RemovalPolicy.SNAPSHOT,
        )
        rotation_group = ec2.SecurityGroup(
            self,
            "Rotation",
            vpc=self.network.vpc,
            description="The hosted rotation function of the database secret",
            allow_all_outbound=False,
        )
        rotation_group.connections.allow_to(self.database_group, ec2.Port.tcp(POSTGRES_PORT), "rotation to Aurora")
        self.network.allow_https_to_endpoints(rotation_group)
        cluster.add_rotation_single_user(
            automatically_after=Duration.days(30),
            vpc_subnets=self.network.isolated,
            security_group=rotation_group,
        )
        rds.CfnGlobalCluster(
            self,
            "GlobalCluster",
            global_cluster_identifier=f"dogwalk-{self.deployment.stage}",
            source_db_cluster_identifier=cluster.cluster_arn,
            deletion_protection=deletion_protection,
        )
        if not deletion_protection:
            acknowledge(
                cluster,
                "RDS10",
                "deletion protection is on in prod (context deletion_protection); dev and staging are disposable",
            )
        return cluster

    def _secondary_cluster(
        self, min_capacity: float, max_capacity: float, deletion_protection: bool
    ) -> rds.IDatabaseCluster:
        subnets = rds.CfnDBSubnetGroup(
            self,
            "ClusterSubnets",
            db_subnet_group_description="DogWalk Aurora secondary cluster",
            subnet_ids=self.network.vpc.select_subnets(**_selection(self.network.isolated)).subnet_ids,
        )
        cluster = rds.CfnDBCluster(
            self,
            "Cluster",
            engine="aurora-postgresql",
            engine_version=ENGINE_VERSION.aurora_postgres_full_version,
            db_cluster_identifier=self.cluster_identifier,
            # joins the global database read-only: no master user or password (they replicate)
            global_cluster_identifier=f"dogwalk-{self.deployment.stage}",
            db_subnet_group_name=subnets.ref,
            vpc_security_group_ids=[self.database_group.security_group_id],
            serverless_v2_scaling_configuration=rds.CfnDBCluster.ServerlessV2ScalingConfigurationProperty(
                min_capacity=min_capacity, max_capacity=max_capacity
            ),
            storage_encrypted=True,
            kms_key_id=self.key.key_arn,
            enable_iam_database_authentication=True,
            deletion_protection=deletion_protection,
            backup_retention_period=BACKUP_RETENTION.to_days(),
            preferred_backup_window="03:00-04:00",
            enable_cloudwatch_logs_exports=["postgresql"],
            copy_tags_to_snapshot=True,
            port=POSTGRES_PORT,
        )
        cluster.apply_removal_policy(RemovalPolicy.SNAPSHOT)
        instance = rds.CfnDBInstance(
            self,
            "Reader",
            db_cluster_identifier=cluster.ref,
            db_instance_class="db.serverless",
            engine="aurora-postgresql",
            publicly_accessible=False,
            auto_minor_version_upgrade=True,
        )
        if not deletion_protection:
            acknowledge(
                cluster,
                "RDS10",
                "deletion protection is on in prod (context deletion_protection); dev and staging are disposable",
            )
        imported = rds.DatabaseCluster.from_database_cluster_attributes(
            self,
            "ImportedCluster",
            cluster_identifier=cluster.ref,
            cluster_endpoint_address=cluster.attr_endpoint_address,
            reader_endpoint_address=cluster.attr_read_endpoint_address,
            port=POSTGRES_PORT,
            engine=rds.DatabaseClusterEngine.aurora_postgres(version=ENGINE_VERSION),
            security_groups=[self.database_group],
            cluster_resource_identifier=cluster.attr_db_cluster_resource_id,
        )
        imported.node.add_dependency(instance)
        return imported

    def _cache(self, stage: str) -> None:
        self.cache_name = f"dogwalk-{stage}"
        self.cache_user = f"dogwalk-{stage}-app"
        # Valkey's user groups hold a user named `default`: here it is switched off
        default_user = elasticache.CfnUser(
            self,
            "CacheDefaultUser",
            engine="valkey",
            user_id=f"dogwalk-{stage}-default",
            user_name="default",
            access_string="off -@all",
            no_password_required=True,
        )
        app_user = elasticache.CfnUser(
            self,
            "CacheAppUser",
            engine="valkey",
            # IAM auth: the user id and the user name are the same
            user_id=self.cache_user,
            user_name=self.cache_user,
            access_string="on ~* +@all -@dangerous",
            authentication_mode={"Type": "iam"},
        )
        group = elasticache.CfnUserGroup(
            self,
            "CacheUsers",
            engine="valkey",
            user_group_id=f"dogwalk-{stage}-users",
            user_ids=[default_user.user_id, app_user.user_id],
        )
        group.add_dependency(default_user)
        group.add_dependency(app_user)
        self.cache = elasticache.CfnServerlessCache(
            self,
            "ServerlessCache",
            engine="valkey",
            major_engine_version="8",
            serverless_cache_name=self.cache_name,
            description=f"DogWalk {stage}: rate limits, sessions, idempotency, live-view fan-out",
            kms_key_id=self.key.key_arn,
            security_group_ids=[self.cache_group.security_group_id],
            subnet_ids=self.network.vpc.select_subnets(**_selection(self.network.isolated)).subnet_ids,
            user_group_id=group.user_group_id,
            daily_snapshot_time="04:00",
            snapshot_retention_limit=7,
        )
        self.cache.add_dependency(group)
        self.cache_user_arn = Stack.of(self).format_arn(
            service="elasticache",
            resource="user",
            resource_name=self.cache_user,
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        self.cache_arn = Stack.of(self).format_arn(
            service="elasticache",
            resource="serverlesscache",
            resource_name=self.cache_name,
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )

    # --- what the functions get ---------------------------------------------------------------

    @property
    def database_url(self) -> str:
        # no password: an IAM auth token is the password of every new connection; the proxy's
        # certificate and name verified against the layer's authorities (dogwalk.adapters.db)
        return f"postgresql://{DATABASE_USER}@{self.proxy.endpoint}:{POSTGRES_PORT}/{DATABASE_NAME}?sslmode=verify-full"

    @property
    def redis_url(self) -> str:
        return f"rediss://{self.cache_user}@{self.cache.attr_endpoint_address}:{self.cache.attr_endpoint_port}/0"

    def function_environment(self, uses: Set[str]) -> dict[str, str]:
        names = environment_names()
        environment: dict[str, str] = {}
        if registry.DATABASE in uses:
            environment[names["database_url"]] = self.database_url
            environment[names["database_iam_auth_region"]] = Stack.of(self).region
        if registry.CACHE in uses:
            environment[names["redis_url"]] = self.redis_url
            environment[names["redis_iam_auth_cache"]] = self.cache_name
        return environment

    def placement(self, uses: Set[str]) -> dict[str, Any]:
        """`lambda_.Function` arguments: functions using PostgreSQL or Valkey run in the VPC, in the
        egress subnets if they also call the internet, in the isolated subnets otherwise."""
        if not uses & DATA_USES:
            return {}
        if uses & INTERNET_USES:
            return {
                "vpc": self.network.vpc,
                "vpc_subnets": self.network.egress,
                "security_groups": [self.network.internet_functions],
            }
        return {
            "vpc": self.network.vpc,
            "vpc_subnets": self.network.isolated,
            "security_groups": [self.network.functions],
        }

    def grant(self, function: lambda_.Function, uses: Set[str]) -> None:
        """`rds-db:connect` as the database user on this region's proxy, `elasticache:Connect` as the
        cache user on this region's cache: for the functions that declare each, and no others."""
        if uses & DATA_USES and function.role is not None:
            # the network interfaces Lambda makes in the VPC for the function
            function.role.add_managed_policy(iam.ManagedPolicy.from_aws_managed_policy_name(VPC_ACCESS_POLICY))
            acknowledge(
                function.role,
                f"IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/{VPC_ACCESS_POLICY}]",
                "AWS's minimal policy for a function's network interfaces in a VPC (ec2:*NetworkInterface*)",
            )
        if registry.DATABASE in uses:
            self.proxy.grant_connect(function, DATABASE_USER)
        if registry.CACHE in uses:
            function.add_to_role_policy(
                iam.PolicyStatement(actions=["elasticache:Connect"], resources=[self.cache_arn, self.cache_user_arn])
            )


def _selection(selection: ec2.SubnetSelection) -> dict[str, Any]:
    return {"subnet_type": selection.subnet_type}
