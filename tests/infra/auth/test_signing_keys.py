"""The signing-key secret exists, and only the functions that declare it may read or write it."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Template
from extra_declarations import EXTRA_SCHEDULE
from stack_template import StackTemplate, referenced_ids

from dogwalk import registry
from infra.deployment import Deployment

pytestmark = pytest.mark.infra

SECRET = "AWS::SecretsManager::Secret"
READ = {registry.SIGNING_KEYS_READ, registry.SIGNING_KEYS_WRITE}
DEPLOYED = (*registry.ENDPOINTS, registry.AUTHORIZER, registry.MIGRATOR)


def signing_keys_id(template: StackTemplate) -> str:
    return template.secret("jwt-signing-keys")


def secret_actions(template: StackTemplate, function_id: str) -> set[str]:
    return template.secret_actions(function_id, signing_keys_id(template))


def test_secret_is_named_after_the_stage(regional: list[StackTemplate], synthesized_deployment: Deployment) -> None:
    for template in regional:
        Template.from_json(template.template).has_resource_properties(
            SECRET, {"Name": f"dogwalk/{synthesized_deployment.stage}/jwt-signing-keys"}
        )


def test_secret_starts_as_an_empty_key_list(primary: StackTemplate) -> None:
    secret = primary.resources[signing_keys_id(primary)]
    generated = secret["Properties"]["GenerateSecretString"]
    assert generated["SecretStringTemplate"] == '{"keys": []}'
    assert "SecretString" not in secret["Properties"]


def test_only_functions_that_use_the_signing_keys_can_read_them(primary: StackTemplate) -> None:
    functions = primary.python_functions()
    for declaration in DEPLOYED:
        actions = secret_actions(primary, functions[declaration.name])
        if declaration.uses & READ:
            assert {"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"} <= actions, declaration.name
        else:
            assert actions == set(), declaration.name


def test_only_writers_can_write_the_signing_keys(primary: StackTemplate, extras: StackTemplate) -> None:
    functions = primary.python_functions()
    for declaration in DEPLOYED:
        writes = secret_actions(primary, functions[declaration.name]) & {"secretsmanager:PutSecretValue"}
        assert bool(writes) == (registry.SIGNING_KEYS_WRITE in declaration.uses), declaration.name
    writer = extras.python_functions()[EXTRA_SCHEDULE.name]
    assert {"secretsmanager:PutSecretValue", "secretsmanager:GetSecretValue"} <= secret_actions(extras, writer)


def test_no_statement_outside_the_secrets_grants_secretsmanager(regional: list[StackTemplate]) -> None:
    for template in regional:
        # the platform's secrets: a function that reads both may get one statement for the two
        secrets = set(template.of_type(SECRET))
        assert signing_keys_id(template) in secrets
        # the restore validation reads the database's master secret, an output of the data tier
        data_tier = {
            logical_id
            for logical_id in template.of_type("AWS::CloudFormation::Stack")
            if logical_id.startswith("DataNestedStack")
        }
        for name, logical_id in template.python_functions().items():
            allowed = secrets | data_tier if name == registry.RESTORE_VALIDATOR.name else secrets
            for statement in template.statements_of(logical_id):
                listed = statement["Action"]
                actions = [listed] if isinstance(listed, str) else listed
                if any(action.startswith("secretsmanager:") for action in actions):
                    assert referenced_ids(statement["Resource"]) <= allowed, name
                    assert referenced_ids(statement["Resource"])
