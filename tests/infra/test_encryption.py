"""Customer managed keys (rotation on) for the queues, the log groups and the secrets (infra/encryption.py)."""

from __future__ import annotations

from typing import Any

import pytest
from extra_declarations import EXTRA_CONSUMER, EXTRA_NOTIFY_ENDPOINT, EXTRA_PAYMENTS_ENDPOINT, EXTRA_SCHEDULE
from nested_stacks import all_nested
from stack_template import StackTemplate, Synthesized, referenced_ids

from dogwalk import registry

pytestmark = pytest.mark.infra

KEY = "AWS::KMS::Key"
SECRET_READERS = {registry.SIGNING_KEYS_READ, registry.SIGNING_KEYS_WRITE, registry.PAYMENTS}
SECRET_WRITERS = {registry.SIGNING_KEYS_WRITE}
EXTRA_FUNCTIONS = (
    registry.endpoint("get_health"),
    EXTRA_PAYMENTS_ENDPOINT,
    EXTRA_NOTIFY_ENDPOINT,
    EXTRA_SCHEDULE,
    EXTRA_CONSUMER,
    registry.AUTHORIZER,
    registry.MIGRATOR,
)
# log groups that may have no key: none (each one is encrypted, nested stacks included)
UNENCRYPTED_LOG_GROUPS: dict[str, str] = {}


def key_id(template: StackTemplate, purpose: str) -> str:
    """The logical id of the regional stack's `queues`, `logs` or `secrets` key."""
    [found] = [logical_id for logical_id in template.of_type(KEY) if logical_id.startswith(f"Keys{purpose}Key")]
    return found


def all_stacks(synthesized: Synthesized) -> list[str]:
    return [synthesized.primary, synthesized.secondary, "DogWalk-test-extras"]


def key_statements(template: StackTemplate, logical_id: str) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = template.properties(logical_id)["KeyPolicy"]["Statement"]
    return statements


def kms_grants(template: StackTemplate, function_id: str, key: str) -> list[dict[str, Any]]:
    return [
        statement
        for statement in template.statements_of(function_id)
        if key in referenced_ids(statement["Resource"])
        and statement["Effect"] == "Allow"
        and any(str(action).startswith("kms:") for action in _actions(statement))
    ]


def _actions(statement: dict[str, Any]) -> set[str]:
    listed = statement["Action"]
    return {listed} if isinstance(listed, str) else set(listed)


def declarations(synthesized: Synthesized, stack_name: str) -> dict[str, registry.Function]:
    functions = EXTRA_FUNCTIONS if stack_name == "DogWalk-test-extras" else registry.functions()
    return {declaration.name: declaration for declaration in functions if declaration is not None}


def test_the_three_keys_rotate(synthesized: Synthesized) -> None:
    for stack_name in all_stacks(synthesized):
        template = synthesized.templates[stack_name]
        for purpose in ("Queues", "Logs", "Secrets"):
            assert template.properties(key_id(template, purpose))["EnableKeyRotation"] is True, (stack_name, purpose)


def test_every_queue_uses_the_queues_key(synthesized: Synthesized) -> None:
    for stack_name in all_stacks(synthesized):
        template = synthesized.templates[stack_name]
        queues = template.of_type("AWS::SQS::Queue")
        assert queues
        for logical_id, queue in queues.items():
            properties = queue["Properties"]
            assert referenced_ids(properties["KmsMasterKeyId"]) == {key_id(template, "Queues")}, logical_id
            assert "SqsManagedSseEnabled" not in properties


def test_every_log_group_has_a_key_nested_stacks_included(synthesized: Synthesized) -> None:
    for stack_name in all_stacks(synthesized):
        templates = {stack_name: synthesized.templates[stack_name], **all_nested(synthesized, stack_name)}
        for name, template in templates.items():
            for logical_id, log_group in template.of_type("AWS::Logs::LogGroup").items():
                if logical_id in UNENCRYPTED_LOG_GROUPS:
                    continue
                assert "KmsKeyId" in log_group["Properties"], (name, logical_id)
                # a key of the template rotates; a nested stack's parameter is the regional `logs` key
                for referenced in referenced_ids(log_group["Properties"]["KmsKeyId"]):
                    if referenced in template.resources:
                        assert template.properties(referenced)["EnableKeyRotation"] is True


def test_the_regional_log_groups_use_the_logs_key(
    synthesized: Synthesized, with_functions: dict[str, StackTemplate]
) -> None:
    for stack_name in all_stacks(synthesized):
        template = with_functions[stack_name]  # the nested services' functions too
        logs_key = key_id(template, "Logs")
        for logical_id, log_group in template.of_type("AWS::Logs::LogGroup").items():
            assert referenced_ids(log_group["Properties"]["KmsKeyId"]) == {logs_key}, logical_id


def test_the_secrets_use_the_secrets_key(synthesized: Synthesized) -> None:
    for stack_name in all_stacks(synthesized):
        template = synthesized.templates[stack_name]
        for purpose in ("jwt-signing-keys", "payments"):
            secret = template.properties(template.secret(purpose))
            assert referenced_ids(secret["KmsKeyId"]) == {key_id(template, "Secrets")}, (stack_name, purpose)


def test_sns_may_use_the_queues_key_for_the_events_topic_only(regional: list[StackTemplate]) -> None:
    for template in regional:
        [topic] = [
            logical_id
            for logical_id, topic in template.of_type("AWS::SNS::Topic").items()
            if str(topic["Properties"].get("TopicName", "")).endswith("-events")
        ]
        [statement] = [
            statement
            for statement in key_statements(template, key_id(template, "Queues"))
            if statement["Principal"] == {"Service": "sns.amazonaws.com"}
        ]
        assert _actions(statement) == {"kms:GenerateDataKey", "kms:Decrypt"}
        assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Ref": topic}}}


def test_cloudwatch_logs_may_use_the_logs_key_for_this_accounts_log_groups(regional: list[StackTemplate]) -> None:
    for template in regional:
        [statement] = [
            statement
            for statement in key_statements(template, key_id(template, "Logs"))
            if "Service" in statement["Principal"]
        ]
        service = statement["Principal"]["Service"]
        assert service.startswith("logs.") and service.endswith(".amazonaws.com") and service != "logs.amazonaws.com"
        region_name = service.removeprefix("logs.").removesuffix(".amazonaws.com")
        [condition] = statement["Condition"]["ArnLike"].values()
        assert list(statement["Condition"]["ArnLike"]) == ["kms:EncryptionContext:aws:logs:arn"]
        _, parts = condition["Fn::Join"]
        assert parts == [f"arn:aws:logs:{region_name}:", {"Ref": "AWS::AccountId"}, ":log-group:*"]


def test_the_iot_rule_role_may_send_with_the_queues_key(regional: list[StackTemplate]) -> None:
    for template in regional:
        queues_key = key_id(template, "Queues")
        rules = template.of_type("AWS::IoT::TopicRule")
        assert rules
        for rule in rules.values():
            roles = {
                role
                for action in [
                    rule["Properties"]["TopicRulePayload"]["ErrorAction"],
                    *rule["Properties"]["TopicRulePayload"]["Actions"],
                ]
                for role in referenced_ids(action["Sqs"]["RoleArn"])
            }
            actions: set[str] = set()
            for policy in template.of_type("AWS::IAM::Policy").values():
                if referenced_ids(policy["Properties"]["Roles"]) & roles:
                    for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                        if queues_key in referenced_ids(statement["Resource"]):
                            actions |= _actions(statement)
            assert actions == {"kms:GenerateDataKey", "kms:Decrypt"}


def test_queue_consumers_may_decrypt_with_the_queues_key(
    synthesized: Synthesized, with_functions: dict[str, StackTemplate]
) -> None:
    for stack_name in all_stacks(synthesized):
        template = with_functions[stack_name]  # the nested services' functions too
        queues_key = key_id(template, "Queues")
        consumers = {
            mapping["Properties"]["FunctionName"]["Ref"]
            for mapping in template.of_type("AWS::Lambda::EventSourceMapping").values()
        }
        assert consumers
        for function_id in consumers:
            grants = kms_grants(template, function_id, queues_key)
            assert set().union(*(_actions(statement) for statement in grants)) == {"kms:Decrypt"}, function_id


def test_exactly_the_functions_that_read_secrets_may_decrypt_with_the_secrets_key(
    synthesized: Synthesized, with_functions: dict[str, StackTemplate]
) -> None:
    for stack_name in all_stacks(synthesized):
        template = with_functions[stack_name]  # the nested services' functions too
        secrets_key = key_id(template, "Secrets")
        functions = template.python_functions()
        known = declarations(synthesized, stack_name)
        assert set(functions) <= set(known), sorted(set(functions) - set(known))
        for name, function_id in functions.items():
            uses = known[name].uses
            grants = kms_grants(template, function_id, secrets_key)
            actions = set().union(*(_actions(statement) for statement in grants))
            if uses & SECRET_WRITERS:
                assert actions == {"kms:Decrypt", "kms:GenerateDataKey"}, name
            elif uses & SECRET_READERS:
                assert actions == {"kms:Decrypt"}, name
            else:
                assert not grants, name
            for statement in grants:
                # only through Secrets Manager
                [via] = statement["Condition"]["StringEquals"].values()
                assert str(via).startswith("secretsmanager.") and list(statement["Condition"]["StringEquals"]) == [
                    "kms:ViaService"
                ]


def test_the_readers_are_there_to_check(regional: list[StackTemplate]) -> None:
    """The registry declares secret readers and writers, and the migrator writes signing keys."""
    assert registry.SIGNING_KEYS_WRITE in registry.MIGRATOR.uses
    assert any(registry.PAYMENTS in function.uses for function in registry.functions() if function is not None)
