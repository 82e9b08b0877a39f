"""Gradual deployment of the API functions: a `live` alias per endpoint function, shifted by CodeDeploy.

Each endpoint function gets a version and a `live` alias that API Gateway invokes; a CodeDeploy
deployment group moves the alias to a new version 10 % first, the rest after 5 minutes, and rolls
back when the function's errors alarm or the API's 5xx alarm goes off. All of it is a nested stack
(four resources per function would not fit the regional stack's 500).

A version is published when the function changed: its description carries a fingerprint of the
code (layers, handlers, dependencies) and of the function's configuration, and a changed
description replaces the version. The nested stack takes the functions' names as parameters, so
CloudFormation updates it only after the functions, which themselves wait for the migrations.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import cast

import jsii
from aws_cdk import Duration, IStableStringProducer, Lazy, NestedStack, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_codedeploy as codedeploy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.compliance import acknowledge
from infra.functions import pascal_case
from infra.operations.migrations import code_fingerprint

ALIAS_NAME = "live"
DEPLOYMENT_CONFIG = codedeploy.LambdaDeploymentConfig.CANARY_10_PERCENT_5_MINUTES
CODEDEPLOY_LAMBDA_POLICY = "service-role/AWSCodeDeployRoleForLambdaLimited"
# a function's properties that do not change what runs
UNVERSIONED_PROPERTIES = frozenset({"description", "tags"})


def configuration_fingerprint(function: lambda_.Function, code: str) -> str:
    """A digest of the function's resolved configuration and of the code it runs."""
    cfn = cast(lambda_.CfnFunction, function.node.default_child)
    # every property as CloudFormation gets it (the L2 fills environment, layers and more lazily)
    properties = Stack.of(function).resolve(cfn._cfn_properties)
    resolved = {name: value for name, value in properties.items() if name not in UNVERSIONED_PROPERTIES}
    text = json.dumps(resolved, sort_keys=True, default=str) + code
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@jsii.implements(IStableStringProducer)
class _VersionDescription:
    def __init__(self, function: lambda_.Function, code: str) -> None:
        self.function = function
        self.code = code

    def produce(self) -> str:
        return f"dogwalk {self.function.node.id} {configuration_fingerprint(self.function, self.code)}"


def live_alias(scope: Construct, construct_id: str, function: lambda_.Function, code: str) -> lambda_.Alias:
    """The function's `live` alias on a version published whenever its configuration or code changes."""
    version = lambda_.Version(
        scope,
        f"{construct_id}Version",
        lambda_=function,
        # resolved at synth, when the function's configuration is complete
        description=Lazy.string(_VersionDescription(function, code)),
    )
    return lambda_.Alias(scope, f"{construct_id}Live", alias_name=ALIAS_NAME, version=version)


class CanaryDeployments(NestedStack):
    """`live` aliases of the endpoint functions, their CodeDeploy groups and rollback alarms."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        functions: Mapping[str, lambda_.Function],
        api_server_error_alarm_name: str | None,
        service: str | None = None,
    ) -> None:
        """`service`: the aliases of one nested service's endpoints (infra/functions.py: ServiceFunctions),
        in a CodeDeploy application of their own; none: the regional stack's endpoints."""
        super().__init__(
            scope,
            construct_id,
            description=f"dogwalk {stage}: live aliases and canary deployments" + (f" ({service})" if service else ""),
        )
        suffix = f"-{service}" if service else ""
        self.application = codedeploy.LambdaApplication(
            self, "Application", application_name=f"dogwalk-{stage}-{Stack.of(self).region}-api{suffix}"
        )
        # one role for every group (CDK would make one per group)
        self.role = iam.Role(
            self,
            "DeploymentRole",
            assumed_by=iam.ServicePrincipal("codedeploy.amazonaws.com"),
            description=f"CodeDeploy shifting dogwalk {stage} API aliases",
        )
        acknowledge(
            self.role,
            f"IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/{CODEDEPLOY_LAMBDA_POLICY}]",
            "AWS's limited CodeDeploy policy for Lambda: update aliases and invoke only hooks named CodeDeployHook_*",
        )
        api_alarm = (
            cloudwatch.Alarm.from_alarm_name(self, "ApiServerErrors", api_server_error_alarm_name)
            if api_server_error_alarm_name is not None
            else None
        )
        code = code_fingerprint()
        self.aliases: dict[str, lambda_.Alias] = {}
        self.groups: dict[str, codedeploy.LambdaDeploymentGroup] = {}
        self.error_alarms: dict[str, cloudwatch.Alarm] = {}
        for name, function in sorted(functions.items()):
            construct_id = pascal_case(name)
            alias = live_alias(self, construct_id, function, code)
            errors = cloudwatch.Alarm(
                self,
                f"{construct_id}Errors",
                alarm_name=f"dogwalk-{stage}-{name}-{ALIAS_NAME}-errors",
                alarm_description=f"{name} ({ALIAS_NAME}) failed an invocation: rolls back its deployment",
                metric=alias.metric_errors(period=Duration.minutes(1), statistic=cloudwatch.Stats.SUM),
                threshold=0,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            alarms: list[cloudwatch.IAlarm] = [errors]
            if api_alarm is not None:
                alarms.append(api_alarm)
            self.groups[name] = codedeploy.LambdaDeploymentGroup(
                self,
                f"{construct_id}Deployment",
                application=self.application,
                alias=alias,
                role=self.role,
                deployment_config=DEPLOYMENT_CONFIG,
                alarms=alarms,
                auto_rollback=codedeploy.AutoRollbackConfig(
                    failed_deployment=True, stopped_deployment=True, deployment_in_alarm=True
                ),
            )
            self.aliases[name] = alias
            self.error_alarms[name] = errors
