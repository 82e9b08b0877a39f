"""The payments secret exists, only the functions that declare PAYMENTS may read it, and nobody may write it."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Template
from extra_declarations import EXTRA_CONSUMER, EXTRA_NOTIFY_ENDPOINT, EXTRA_PAYMENTS_ENDPOINT, EXTRA_SCHEDULE
from stack_template import StackTemplate, referenced_ids

from dogwalk import registry
from dogwalk.config import environment_names
from infra.deployment import Deployment

pytestmark = pytest.mark.infra

SECRET = "AWS::SecretsManager::Secret"
READ = {"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}
# every Secrets Manager action that changes a secret's value, metadata or policy
WRITE_PREFIXES = (
    "secretsmanager:Put",
    "secretsmanager:Update",
    "secretsmanager:Delete",
    "secretsmanager:Restore",
    "secretsmanager:Rotate",
    "secretsmanager:Cancel",
    "secretsmanager:Tag",
    "secretsmanager:Untag",
    "secretsmanager:Replicate",
    "secretsmanager:Remove",
    "secretsmanager:StopReplication",
    "secretsmanager:*",
)
ENV = environment_names()["payments_secret_id"]


def payments_id(template: StackTemplate) -> str:
    return template.secret("payments")


def actions_of(statement: dict[str, object]) -> set[str]:
    listed = statement["Action"]
    return {listed} if isinstance(listed, str) else set(listed)  # type: ignore[arg-type]


def test_env_var_name() -> None:
    assert ENV == "DOGWALK_PAYMENTS_SECRET_ID"


def test_secret_is_named_after_the_stage(
    regional: list[StackTemplate], extras: StackTemplate, synthesized_deployment: Deployment
) -> None:
    for template in (*regional, extras):
        Template.from_json(template.template).has_resource_properties(
            SECRET, {"Name": f"dogwalk/{synthesized_deployment.stage}/payments"}
        )


def test_secret_starts_as_a_generated_placeholder(primary: StackTemplate) -> None:
    properties = primary.properties(payments_id(primary))
    generated = properties["GenerateSecretString"]
    assert json.loads(generated["SecretStringTemplate"]) == {"api_key": "", "webhook_secret": ""}
    assert generated["GenerateStringKey"] not in {"api_key", "webhook_secret"}
    assert "SecretString" not in properties


def check_readers(template: StackTemplate, declarations: tuple[registry.Function, ...], stage: str) -> None:
    functions = template.python_functions()
    secret_id = payments_id(template)
    assert {declaration.name for declaration in declarations} == set(functions)
    for declaration in declarations:
        function_id = functions[declaration.name]
        actions = template.secret_actions(function_id, secret_id)
        variables = template.properties(function_id)["Environment"]["Variables"]
        if registry.PAYMENTS in declaration.uses:
            assert actions >= READ, declaration.name
            assert variables[ENV] == f"dogwalk/{stage}/payments", declaration.name
        else:
            assert actions == set(), declaration.name
            assert ENV not in variables, declaration.name


def test_exactly_the_functions_that_declare_payments_read_it(
    primary: StackTemplate, synthesized_deployment: Deployment
) -> None:
    # computed from the registry, whichever functions declare PAYMENTS at the time
    check_readers(primary, registry.functions(), synthesized_deployment.stage)


def test_a_declared_payments_user_reads_it_and_no_other_function_does(
    extras: StackTemplate, synthesized_deployment: Deployment
) -> None:
    # independent of the registry's contents: the extras stack always has one user of PAYMENTS
    deployed = (
        registry.endpoint("get_health"),
        EXTRA_PAYMENTS_ENDPOINT,
        EXTRA_NOTIFY_ENDPOINT,
        registry.MIGRATOR,
        EXTRA_SCHEDULE,
        EXTRA_CONSUMER,
    )
    assert registry.PAYMENTS in EXTRA_PAYMENTS_ENDPOINT.uses
    check_readers(extras, deployed, synthesized_deployment.stage)


def test_nobody_can_write_it(regional: list[StackTemplate], extras: StackTemplate) -> None:
    for template in (*regional, extras):
        secret_id = payments_id(template)
        for statement in template.iam_statements():
            if secret_id in referenced_ids(statement["Resource"]):
                writes = {action for action in actions_of(statement) if action.startswith(WRITE_PREFIXES)}
                assert writes == set(), statement


def test_only_read_statements_point_at_it(regional: list[StackTemplate], extras: StackTemplate) -> None:
    """Every Secrets Manager statement that names the secret is a read grant to a function that declares it."""
    for template in (*regional, extras):
        secret_id = payments_id(template)
        for name, function_id in template.python_functions().items():
            for statement in template.statements_of(function_id):
                if secret_id not in referenced_ids(statement["Resource"]):
                    continue
                assert statement["Effect"] == "Allow"
                assert actions_of(statement) == READ, (name, statement)
        # nothing outside the functions' roles (a resource policy, another role) grants on it
        assert template.of_type("AWS::SecretsManager::ResourcePolicy") == {}
