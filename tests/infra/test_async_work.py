"""Schedules, queue consumers and topic rules are built from their declarations alone."""

from __future__ import annotations

from typing import Any

import pytest
from extra_declarations import EXTRA_CONSUMER, EXTRA_SCHEDULE, EXTRA_TOPIC_RULE, unbundled_app
from stack_template import StackTemplate, referenced_ids

from dogwalk import registry
from infra.deployment import Deployment
from infra.queues import BATCHING_WINDOW
from infra.stack import RegionalStack

pytestmark = pytest.mark.infra


def test_schedule_invokes_its_function_at_the_declared_rate(extras: StackTemplate) -> None:
    function = extras.python_functions()[EXTRA_SCHEDULE.name]
    _, rule = extras.only("AWS::Events::Rule")
    assert rule["Properties"]["ScheduleExpression"] == EXTRA_SCHEDULE.expression == "rate(1 day)"
    [target] = rule["Properties"]["Targets"]
    assert referenced_ids(target["Arn"]) == {function}


def test_queue_consumer_reads_its_queue_and_reports_partial_failures(extras: StackTemplate) -> None:
    function = extras.python_functions()[EXTRA_CONSUMER.name]
    _, mapping = extras.only("AWS::Lambda::EventSourceMapping")
    properties = mapping["Properties"]
    assert referenced_ids(properties["FunctionName"]) == {function}
    assert properties["BatchSize"] == EXTRA_CONSUMER.batch_size
    # batches over 10 messages need a batching window
    assert properties["MaximumBatchingWindowInSeconds"] == BATCHING_WINDOW.to_seconds() == 2
    assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    [queue_id] = referenced_ids(properties["EventSourceArn"])
    redrive = extras.properties(queue_id)["RedrivePolicy"]
    assert redrive["maxReceiveCount"] == EXTRA_CONSUMER.max_receive_count
    assert referenced_ids(redrive["deadLetterTargetArn"]) <= set(extras.of_type("AWS::SQS::Queue"))
    assert extras.properties(queue_id)["VisibilityTimeout"] >= 6 * EXTRA_CONSUMER.timeout_s


def test_topic_rule_sends_matching_messages_to_the_named_queue(extras: StackTemplate) -> None:
    function = extras.python_functions()[EXTRA_CONSUMER.name]
    _, mapping = extras.only("AWS::Lambda::EventSourceMapping")
    [consumer_queue] = referenced_ids(mapping["Properties"]["EventSourceArn"])
    _, rule = extras.only("AWS::IoT::TopicRule")
    payload = rule["Properties"]["TopicRulePayload"]
    assert payload["Sql"] == EXTRA_TOPIC_RULE.sql == "SELECT *, topic() AS topic FROM 'dogwalk/walks/+/location'"
    [action] = payload["Actions"]
    assert referenced_ids(action["Sqs"]["QueueUrl"]) == {consumer_queue}
    assert function


def test_iot_may_send_only_to_the_consumer_queues(extras: StackTemplate) -> None:
    _, rule = extras.only("AWS::IoT::TopicRule")
    [role_id] = referenced_ids(rule["Properties"]["TopicRulePayload"]["Actions"][0]["Sqs"]["RoleArn"])
    statements = [
        statement
        for policy in extras.of_type("AWS::IAM::Policy").values()
        if role_id in referenced_ids(policy["Properties"]["Roles"])
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    queues = set(extras.of_type("AWS::SQS::Queue"))
    keys = set(extras.of_type("AWS::KMS::Key"))
    assert statements
    for statement in statements:
        # the queues, and the `queues` key that encrypts them (tests/infra/test_encryption.py)
        assert referenced_ids(statement["Resource"]) <= queues or referenced_ids(statement["Resource"]) <= keys


def test_the_registry_stacks_have_one_async_resource_per_declaration(
    regional: list[StackTemplate],
) -> None:
    expected = {
        "AWS::Events::Rule": len(registry.SCHEDULES),
        "AWS::Lambda::EventSourceMapping": len(registry.QUEUE_CONSUMERS),
        "AWS::IoT::TopicRule": len(registry.TOPIC_RULES),
        # each consumer's queue and its dead-letter queue
        "AWS::SQS::Queue": 2 * len(registry.QUEUE_CONSUMERS),
    }
    for template in regional:
        found = {kind: len(template.of_type(kind)) for kind in expected}
        # the one rule on an event pattern is the restore validation's (tests/infra/operations/test_restore_tests.py)
        found["AWS::Events::Rule"] = len(schedule_rules(template))
        assert found == expected


def schedule_rules(template: StackTemplate) -> list[dict[str, Any]]:
    """The stack's EventBridge rules on a schedule (not on an event pattern)."""
    return [
        rule for rule in template.of_type("AWS::Events::Rule").values() if "ScheduleExpression" in rule["Properties"]
    ]


def test_registry_schedules_run_their_functions_at_their_rates(regional: list[StackTemplate]) -> None:
    for template in regional:
        functions = template.python_functions()
        rates = {}
        for rule in schedule_rules(template):
            [target] = rule["Properties"]["Targets"]
            [function_id] = referenced_ids(target["Arn"])
            rates[function_id] = rule["Properties"]["ScheduleExpression"]
        assert rates == {functions[schedule.name]: schedule.expression for schedule in registry.SCHEDULES}
        assert rates[functions["maintain_walk_points"]] == "rate(1 day)"
        assert rates[functions["pay_out_walkers"]] == "rate(7 days)"


def ingest_mapping(template: StackTemplate) -> dict[str, Any]:
    function = template.python_functions()["ingest_walk_messages"]
    [mapping] = [
        mapping["Properties"]
        for mapping in template.of_type("AWS::Lambda::EventSourceMapping").values()
        if referenced_ids(mapping["Properties"]["FunctionName"]) == {function}
    ]
    return mapping


def test_walk_messages_are_ingested_in_batches_of_100_with_partial_failures(regional: list[StackTemplate]) -> None:
    [consumer] = [consumer for consumer in registry.QUEUE_CONSUMERS if consumer.queue == registry.WALK_MESSAGES_QUEUE]
    assert (consumer.name, consumer.queue, consumer.batch_size) == ("ingest_walk_messages", "walk-messages", 100)
    for template in regional:
        mapping = ingest_mapping(template)
        assert mapping["BatchSize"] == 100
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        # a few seconds to fill a batch (SQS hands over more than 10 messages only when it may wait)
        assert 1 <= mapping["MaximumBatchingWindowInSeconds"] <= 5
        [queue_id] = referenced_ids(mapping["EventSourceArn"])
        queue = template.properties(queue_id)
        assert queue["RedrivePolicy"]["maxReceiveCount"] == consumer.max_receive_count
        [dead_letters] = referenced_ids(queue["RedrivePolicy"]["deadLetterTargetArn"])
        assert template.resources[dead_letters]["Type"] == "AWS::SQS::Queue"
        assert template.properties(dead_letters)["MessageRetentionPeriod"] == 14 * 24 * 3600
        # six function timeouts plus the batching window, so a running batch's messages stay hidden
        window = mapping["MaximumBatchingWindowInSeconds"]
        assert queue["VisibilityTimeout"] >= 6 * consumer.timeout_s + window


def test_the_walk_topic_rule_queues_every_walk_message_for_the_ingest(regional: list[StackTemplate]) -> None:
    [rule] = [rule for rule in registry.TOPIC_RULES if rule.name == "walk_messages"]
    for template in regional:
        [queue_id] = referenced_ids(ingest_mapping(template)["EventSourceArn"])
        [payload] = [
            topic_rule["Properties"]["TopicRulePayload"]
            for topic_rule in template.of_type("AWS::IoT::TopicRule").values()
            if topic_rule["Properties"]["TopicRulePayload"]["Sql"] == rule.sql
        ]
        assert payload["Sql"] == rule.sql == "SELECT *, topic() AS topic FROM 'dogwalk/walks/+/+'"
        assert payload["AwsIotSqlVersion"] == "2016-03-23"
        assert payload["RuleDisabled"] is False
        [action] = payload["Actions"]
        assert referenced_ids(action["Sqs"]["QueueUrl"]) == {queue_id}
        # what cannot be delivered waits with the ingest's failures
        dead_letters = referenced_ids(template.properties(queue_id)["RedrivePolicy"]["deadLetterTargetArn"])
        assert referenced_ids(payload["ErrorAction"]["Sqs"]["QueueUrl"]) == dead_letters


def test_topic_rule_roles_may_only_send_messages_to_their_queues(
    regional: list[StackTemplate], extras: StackTemplate
) -> None:
    for template in (*regional, extras):
        for topic_rule in template.of_type("AWS::IoT::TopicRule").values():
            payload = topic_rule["Properties"]["TopicRulePayload"]
            [role_id] = referenced_ids(payload["Actions"][0]["Sqs"]["RoleArn"])
            targets = referenced_ids(payload["Actions"][0]["Sqs"]["QueueUrl"]) | referenced_ids(
                payload["ErrorAction"]["Sqs"]["QueueUrl"]
            )
            statements = [
                statement
                for policy in template.of_type("AWS::IAM::Policy").values()
                if role_id in referenced_ids(policy["Properties"]["Roles"])
                for statement in policy["Properties"]["PolicyDocument"]["Statement"]
            ]
            assert template.properties(role_id).get("ManagedPolicyArns") is None
            assert template.properties(role_id).get("Policies") is None
            # SendMessage to its queues; the `queues` key's data keys (tests/infra/test_encryption.py)
            [statement] = [statement for statement in statements if statement["Action"] == "sqs:SendMessage"]
            assert statement["Effect"] == "Allow"
            assert referenced_ids(statement["Resource"]) == targets
            [key_statement] = [statement for statement in statements if statement["Action"] != "sqs:SendMessage"]
            assert sorted(key_statement["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]
            [key] = referenced_ids(key_statement["Resource"])
            assert template.resources[key]["Type"] == "AWS::KMS::Key"
            assert len(statements) == 2


def test_topic_rule_to_an_undeclared_queue_is_refused(synthesized_deployment: Deployment) -> None:
    orphan = registry.TopicRule(name="orphan", topic_filter="dogwalk/x", queue="nobody_reads_this")
    with pytest.raises(ValueError, match="no queue consumer declares queue 'nobody_reads_this'"):
        RegionalStack(unbundled_app(), "Orphan", deployment=synthesized_deployment, endpoints=(), topic_rules=(orphan,))


def test_two_consumers_of_one_queue_are_refused(synthesized_deployment: Deployment) -> None:
    second = registry.QueueConsumer(name="second_reader", queue=EXTRA_CONSUMER.queue)
    with pytest.raises(ValueError, match="already has a consumer"):
        RegionalStack(
            unbundled_app(),
            "Twice",
            deployment=synthesized_deployment,
            endpoints=(),
            queue_consumers=(EXTRA_CONSUMER, second),
        )
