"""Runs the migration function on deploy (a custom resource) before new code takes traffic."""

from __future__ import annotations

import hashlib
from typing import cast

from aws_cdk import CustomResource, RemovalPolicy, Stack, custom_resources
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.bundling import dependencies_fingerprint, source_fingerprint
from infra.compliance import acknowledge
from infra.functions import BASIC_EXECUTION_ROLE
from infra.sources import CORE_LAYER_DIR, FUNCTIONS_DIR

RESOURCE_TYPE = "Custom::DogWalkMigrations"


def code_fingerprint() -> str:
    """Changes whenever a deploy ships different code, SQL migrations or dependencies.

    CloudFormation calls a custom resource only when its properties change; a value derived
    from the code (rather than a timestamp) keeps synth deterministic while still running the
    migrations on every deploy that changes anything they or the new handlers depend on.
    """
    parts = [source_fingerprint(CORE_LAYER_DIR), source_fingerprint(FUNCTIONS_DIR), dependencies_fingerprint()]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


class Migrations(Construct):
    """The custom resource whose create and update events invoke the migration function.

    Make every other function depend on `resource`, so CloudFormation updates them only after
    the schema (and the first signing key) exist.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        migrator: lambda_.IFunction,
        log_retention: logs.RetentionDays,
        log_key: kms.IKey,
    ) -> None:
        super().__init__(scope, construct_id)
        provider = custom_resources.Provider(
            self,
            "Provider",
            on_event_handler=migrator,
            log_group=logs.LogGroup(
                self,
                "ProviderLogs",
                retention=log_retention,
                encryption_key=log_key,
                removal_policy=RemovalPolicy.DESTROY,
            ),
        )
        acknowledge(
            provider,
            f"IAM4[Policy::{BASIC_EXECUTION_ROLE}]",
            "CDK's custom-resource framework function; AWS's minimal Lambda logging policy",
        )
        # X-Ray on CDK's framework function too, like on every function of the platform
        framework = cast(lambda_.Function, provider.node.find_child("framework-onEvent"))
        cast(
            lambda_.CfnFunction, framework.node.default_child
        ).tracing_config = lambda_.CfnFunction.TracingConfigProperty(mode="Active")
        framework.add_to_role_policy(
            iam.PolicyStatement(actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords"], resources=["*"])
        )
        acknowledge(
            provider,
            "IAM5[Resource::*]",
            "xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions",
        )
        stack = Stack.of(self)
        migrator_id = stack.resolve(stack.get_logical_id(cast(lambda_.CfnFunction, migrator.node.default_child)))
        acknowledge(
            provider,
            f"IAM5[Resource::<{migrator_id}.Arn>:*]",
            "CDK's framework may invoke any version of the migration function, and only that function",
        )
        self.resource = CustomResource(
            self,
            "Run",
            service_token=provider.service_token,
            resource_type=RESOURCE_TYPE,
            properties={"CodeFingerprint": code_fingerprint()},
        )
