"""Schedules, queue consumers and topic rules are built from their declarations alone."""

from __future__ import annotations

import pytest
from extra_declarations import EXTRA_CONSUMER, EXTRA_SCHEDULE, EXTRA_TOPIC_RULE, unbundled_app
from stack_template import StackTemplate, referenced_ids

from dogwalk import registry
from infra.deployment import Deployment
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
    assert properties["MaximumBatchingWindowInSeconds"] == 1
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
    assert statements
    for statement in statements:
        assert referenced_ids(statement["Resource"]) <= queues


def test_the_registry_stacks_have_no_async_resources_while_none_are_declared(
    regional: list[StackTemplate],
) -> None:
    expected = {
        "AWS::Events::Rule": len(registry.SCHEDULES),
        "AWS::Lambda::EventSourceMapping": len(registry.QUEUE_CONSUMERS),
        "AWS::IoT::TopicRule": len(registry.TOPIC_RULES),
    }
    for template in regional:
        assert {kind: len(template.of_type(kind)) for kind in expected} == expected


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
