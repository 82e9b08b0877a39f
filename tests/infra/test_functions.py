"""Every registry function becomes exactly one Lambda, built the same way."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Template
from stack_template import LAMBDA, StackTemplate

from dogwalk import registry
from dogwalk.config import environment_names
from infra.deployment import Deployment

pytestmark = pytest.mark.infra

DEPLOYED = registry.functions()
ENV = environment_names()


def test_one_python_function_per_registered_function(regional: list[StackTemplate]) -> None:
    for template in regional:
        functions = template.python_functions()
        assert sorted(functions) == sorted(declaration.name for declaration in DEPLOYED)


def test_the_only_other_function_is_the_custom_resource_framework(regional: list[StackTemplate]) -> None:
    # the Provider framework's own handler (Node.js); no log-retention or other helper Lambdas
    for template in regional:
        others = {
            logical_id: resource["Properties"]["Runtime"]
            for logical_id, resource in template.of_type(LAMBDA).items()
            if resource["Properties"]["Runtime"] != "python3.12"
        }
        assert len(others) == 1, others
        [(logical_id, runtime)] = others.items()
        assert logical_id.startswith("MigrationsProviderframeworkonEvent")
        assert runtime.startswith("nodejs")
        Template.from_json(template.template).resource_count_is(LAMBDA, len(DEPLOYED) + 1)


def test_every_function_is_arm64_python312_traced_with_both_layers(regional: list[StackTemplate]) -> None:
    for template in regional:
        layers = set(template.of_type("AWS::Lambda::LayerVersion"))
        assert len(layers) == 2
        for logical_id in template.python_functions().values():
            properties = template.properties(logical_id)
            assert properties["Architectures"] == ["arm64"]
            assert properties["Runtime"] == "python3.12"
            assert properties["TracingConfig"] == {"Mode": "Active"}
            assert {layer["Ref"] for layer in properties["Layers"]} == layers


def test_layers_are_built_for_arm64_python312(primary: StackTemplate) -> None:
    for layer in primary.of_type("AWS::Lambda::LayerVersion").values():
        assert layer["Properties"]["CompatibleRuntimes"] == ["python3.12"]
        assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]


def test_size_and_handler_come_from_the_registry(primary: StackTemplate) -> None:
    functions = primary.python_functions()
    for declaration in DEPLOYED:
        properties = primary.properties(functions[declaration.name])
        assert properties["Handler"] == declaration.handler
        assert properties["MemorySize"] == declaration.memory_mb
        assert properties["Timeout"] == declaration.timeout_s


def test_logs_are_json_in_a_log_group_with_retention(primary: StackTemplate) -> None:
    for logical_id in primary.python_functions().values():
        logging = primary.properties(logical_id)["LoggingConfig"]
        assert logging["LogFormat"] == "JSON"
        log_group = primary.properties(logging["LogGroup"]["Ref"])
        assert log_group["RetentionInDays"] == 30


def test_environment_names_only_the_adapters_a_function_uses(
    primary: StackTemplate, synthesized_deployment: Deployment
) -> None:
    functions = primary.python_functions()
    for declaration in DEPLOYED:
        variables = primary.properties(functions[declaration.name])["Environment"]["Variables"]
        assert variables[ENV["stage"]] == synthesized_deployment.stage
        assert variables["POWERTOOLS_SERVICE_NAME"] == "dogwalk"
        assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "DogWalk"
        assert (ENV["database_url"] in variables) == (registry.DATABASE in declaration.uses)
        assert (ENV["redis_url"] in variables) == (registry.CACHE in declaration.uses)
        signs = bool(declaration.uses & {registry.SIGNING_KEYS_READ, registry.SIGNING_KEYS_WRITE})
        assert (ENV["signing_key_secret_id"] in variables) == signs
        if signs:
            assert variables[ENV["signing_key_secret_id"]] == f"dogwalk/{synthesized_deployment.stage}/jwt-signing-keys"


def test_database_and_cache_endpoints_come_from_the_data_tier(primary: StackTemplate) -> None:
    """The region's RDS Proxy and cache, with IAM auth (no password) and the proxy's certificate verified:
    the context's URLs no longer reach the cloud."""
    variables = primary.properties(primary.python_functions()["get_health"])["Environment"]["Variables"]
    database_url, redis_url = json.dumps(variables[ENV["database_url"]]), json.dumps(variables[ENV["redis_url"]])
    assert database_url.startswith('{"Fn::Join": ["", ["postgresql://dogwalk@", {"Fn::GetAtt": ["DataNestedStack')
    assert "RdsProxy" in database_url and database_url.endswith(':5432/dogwalk?sslmode=verify-full"]]}')
    assert redis_url.startswith('{"Fn::Join": ["", ["rediss://dogwalk-dev-app@", {"Fn::GetAtt": ["DataNestedStack')
    assert variables[ENV["database_iam_auth_region"]] == "us-east-1"
    assert variables[ENV["redis_iam_auth_cache"]] == "dogwalk-dev"


def test_each_function_has_its_own_role_whose_grants_are_inline(regional: list[StackTemplate]) -> None:
    """One role per function; its statements are written into the role, not into separate
    `AWS::IAM::Policy` resources, which would cost one resource per function of the 500 a stack has."""
    for template in regional:
        roles = [
            template.properties(function_id)["Role"]["Fn::GetAtt"][0]
            for function_id in template.python_functions().values()
        ]
        assert len(set(roles)) == len(roles)
        for role_id in roles:
            role = template.properties(role_id)
            assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "lambda.amazonaws.com"}
            [inline] = role["Policies"]
            assert inline["PolicyName"] == "Grants"
            attached = [
                policy
                for policy in template.of_type("AWS::IAM::Policy").values()
                if {"Ref": role_id} in policy["Properties"]["Roles"]
            ]
            assert attached == []
        assert len(template.resources) <= 500
