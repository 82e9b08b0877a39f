"""The deploy pipeline: migrations first, then each API function's `live` alias shifted by a CodeDeploy canary."""

from __future__ import annotations

import re
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_lambda as lambda_
from nested_stacks import Nested, canary_stacks, nested
from stack_template import StackTemplate, Synthesized, referenced_ids

from dogwalk import registry
from infra.canary import ALIAS_NAME, configuration_fingerprint
from infra.functions import pascal_case
from infra.operations.migrations import RESOURCE_TYPE
from infra.stack import NESTED_SERVICES

pytestmark = pytest.mark.infra

CANARY_CONFIG = "CodeDeployDefault.LambdaCanary10Percent5Minutes"


@pytest.fixture(scope="module")
def canaries(synthesized: Synthesized, with_functions: dict[str, StackTemplate]) -> list[list[Nested]]:
    """Per region, its canary stacks (`Canary`, and `Canary<Service>` per nested service), seen from the
    regional template with the nested services' functions inlined (conftest.py `with_functions`)."""
    return [
        canary_stacks(synthesized, name, parent=with_functions[name])
        for name in (synthesized.primary, synthesized.secondary)
    ]


def region_aliases(stacks: list[Nested]) -> dict[str, tuple[Nested, str, dict[str, Any]]]:
    """Every alias of the region's canary stacks: function logical id → (its stack, alias id, alias properties)."""
    found: dict[str, tuple[Nested, str, dict[str, Any]]] = {}
    for stack in stacks:
        for function_id, (alias_id, alias) in aliases_by_function(stack).items():
            assert function_id not in found, function_id
            found[function_id] = (stack, alias_id, alias)
    return found


def aliases_by_function(stack: Nested) -> dict[str, tuple[str, dict[str, Any]]]:
    """Parent function logical id → (alias logical id, alias properties)."""
    found: dict[str, tuple[str, dict[str, Any]]] = {}
    for alias_id, alias in stack.template.of_type("AWS::Lambda::Alias").items():
        [function_id] = stack.parameter_source(alias["Properties"]["FunctionName"])
        assert function_id not in found
        found[function_id] = (alias_id, alias["Properties"])
    return found


def test_every_endpoint_function_has_a_live_alias_on_a_version_of_itself(canaries: list[list[Nested]]) -> None:
    for stacks in canaries:
        # the nested services' canaries are found too
        assert {stack.resource_id.partition("NestedStack")[0] for stack in stacks} == {
            "Canary",
            *(f"Canary{pascal_case(service)}" for service in NESTED_SERVICES),
        }
        functions = stacks[0].parent.python_functions()
        aliases = region_aliases(stacks)
        assert set(aliases) == {functions[endpoint.name] for endpoint in registry.ENDPOINTS}
        for function_id, (stack, _, alias) in aliases.items():
            assert alias["Name"] == ALIAS_NAME
            [version_id] = referenced_ids(alias["FunctionVersion"])
            version = stack.template.properties(version_id)
            assert stack.parameter_source(version["FunctionName"]) == {function_id}
            # the fingerprint of code and configuration: a change replaces the version (a new one is published)
            assert re.fullmatch(r"dogwalk \w+ [0-9a-f]{32}", version["Description"])


def test_each_alias_is_shifted_by_a_canary_that_rolls_back_on_alarms(
    canaries: list[list[Nested]], synthesized: Synthesized
) -> None:
    stage = synthesized.deployment.stage
    for stacks in canaries:
        assert sum(len(stack.template.of_type("AWS::CodeDeploy::DeploymentGroup")) for stack in stacks) == len(
            registry.ENDPOINTS
        )
        for function_id, (stack, alias_id, _) in region_aliases(stacks).items():
            groups = stack.template.of_type("AWS::CodeDeploy::DeploymentGroup")
            update = stack.template.resources[alias_id]["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]
            [group_id] = referenced_ids(update["DeploymentGroupName"])
            group = groups[group_id]["Properties"]
            assert group["DeploymentConfigName"] == CANARY_CONFIG
            assert group["DeploymentStyle"] == {
                "DeploymentOption": "WITH_TRAFFIC_CONTROL",
                "DeploymentType": "BLUE_GREEN",
            }
            rollback = group["AutoRollbackConfiguration"]
            assert rollback["Enabled"] is True
            assert "DEPLOYMENT_STOP_ON_ALARM" in rollback["Events"]
            assert "DEPLOYMENT_FAILURE" in rollback["Events"]
            assert group["AlarmConfiguration"]["Enabled"] is True
            names = [alarm["Name"] for alarm in group["AlarmConfiguration"]["Alarms"]]
            assert f"dogwalk-{stage}-api-5xx-rate" in names
            [errors_id] = [next(iter(referenced_ids(name))) for name in names if isinstance(name, dict)]
            errors = stack.template.properties(errors_id)
            assert (errors["Namespace"], errors["MetricName"]) == ("AWS/Lambda", "Errors")
            dimensions = {dimension["Name"]: dimension["Value"] for dimension in errors["Dimensions"]}
            assert stack.parameter_source(dimensions["FunctionName"]) == {function_id}
            assert dimensions["Resource"]["Fn::Join"][1][1] == f":{ALIAS_NAME}"


def test_the_api_5xx_alarm_exists_before_the_deployment_groups(
    canaries: list[list[Nested]], synthesized: Synthesized
) -> None:
    for stack_name, stacks in zip((synthesized.primary, synthesized.secondary), canaries, strict=True):
        observability = nested(synthesized, stack_name, "Observability")
        names = {
            alarm["Properties"]["AlarmName"]
            for alarm in observability.template.of_type("AWS::CloudWatch::Alarm").values()
        }
        assert f"dogwalk-{synthesized.deployment.stage}-api-5xx-rate" in names
        for stack in stacks:
            assert observability.resource_id in stack.parent.resources[stack.resource_id]["DependsOn"]


def alias_of_value(canary: Nested, routes: Nested, value: Any) -> set[str]:
    """The canary's aliases behind `value`, of the regional template or of the routes' (through a parameter)."""
    return canary.output_target([value, routes.parameter_values(value)])


def function_of_value(routes: Nested, value: Any) -> set[str]:
    """The regional stack's resources behind `value`, of the regional template or of the routes'."""
    return referenced_ids(value) & set(routes.parent.resources) | routes.parameter_source(value)


def test_api_methods_invoke_the_live_aliases(canaries: list[list[Nested]], routes: list[Nested]) -> None:
    # the methods and their permissions are in the routes' nested stack, the aliases in the canaries'
    for stacks, api in zip(canaries, routes, strict=True):
        template = api.parent
        functions = template.python_functions()
        aliases = region_aliases(stacks)
        methods = api.template.api_methods()
        permissions = [
            permission["Properties"]
            for routes_or_parent in (api.template, template)
            for permission in routes_or_parent.of_type("AWS::Lambda::Permission").values()
        ]
        for endpoint in registry.ENDPOINTS:
            uri = methods[(endpoint.method, endpoint.path)]["Integration"]["Uri"]
            stack, alias_id, _ = aliases[functions[endpoint.name]]
            assert alias_of_value(stack, api, uri) == {alias_id}, endpoint.name
            # API Gateway may invoke the alias (and not the unqualified function)
            granted = [
                permission
                for permission in permissions
                if permission["Principal"] == "apigateway.amazonaws.com"
                and alias_of_value(stack, api, permission["FunctionName"]) == {alias_id}
            ]
            assert len(granted) == 1, endpoint.name
            assert not [
                permission
                for permission in permissions
                if permission["Principal"] == "apigateway.amazonaws.com"
                and function_of_value(api, permission["FunctionName"]) == {functions[endpoint.name]}
            ], endpoint.name


def test_versions_are_published_only_after_the_migrations(canaries: list[list[Nested]]) -> None:
    """The canary stack reads every endpoint function's name: CloudFormation updates it (publishes versions and
    shifts the aliases) only after those functions, and each function waits for the migrations custom resource
    (a nested service's functions through their stack's dependency: nested_stacks.with_service_functions)."""
    for stack in (stack for stacks in canaries for stack in stacks):
        migrations_id, _ = stack.parent.only(RESOURCE_TYPE)
        sources = stack.parameter_source(stack.template.resources)
        functions = set(stack.parent.python_functions().values())
        assert sources and sources <= functions
        for function_id in sources:
            assert migrations_id in stack.parent.resources[function_id]["DependsOn"]


def test_extras_stack_has_canaries_for_its_endpoints(synthesized: Synthesized, extras: StackTemplate) -> None:
    from extra_declarations import EXTRAS_STACK

    stack = nested(synthesized, EXTRAS_STACK, "Canary")
    assert len(stack.template.of_type("AWS::Lambda::Alias")) == 3


def test_the_version_fingerprint_follows_the_configuration() -> None:
    stack = Stack(App(), "Fingerprint")
    function = lambda_.Function(
        stack,
        "Function",
        runtime=lambda_.Runtime.PYTHON_3_12,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context): pass"),
    )
    first = configuration_fingerprint(function, "code")
    assert configuration_fingerprint(function, "code") == first
    assert configuration_fingerprint(function, "other code") != first
    function.add_environment("SETTING", "value")
    assert configuration_fingerprint(function, "code") != first
