"""Domain events and notifications: the encrypted events topic, the channel queues' subscriptions,
who may publish or notify, the SES sender, and the alarms on every dead-letter queue."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from aws_cdk import App, Environment, Stack
from extra_declarations import EXTRA_CONSUMER, EXTRA_NOTIFY_ENDPOINT, EXTRA_PLATFORM_APPLICATIONS
from stack_template import StackTemplate, Synthesized, referenced_ids

from dogwalk import registry
from dogwalk.config import environment_names
from infra.deployment import Deployment
from infra.notifications.fanout import Notifications

pytestmark = pytest.mark.infra

ENV = environment_names()
TOPIC = "AWS::SNS::Topic"
SUBSCRIPTION = "AWS::SNS::Subscription"
ALARM = "AWS::CloudWatch::Alarm"
PUBLISHERS = frozenset(declaration.name for declaration in registry.functions() if registry.EVENTS in declaration.uses)
NOTIFIERS = frozenset(declaration.name for declaration in registry.functions() if registry.NOTIFY in declaration.uses)
SUBSCRIBED = {consumer.queue: consumer for consumer in registry.QUEUE_CONSUMERS if consumer.events}
PUSH_ACTIONS = {
    "sns:CreatePlatformEndpoint",
    "sns:GetEndpointAttributes",
    "sns:SetEndpointAttributes",
    "sns:DeleteEndpoint",
}


def actions_of(statement: dict[str, Any]) -> set[str]:
    listed = statement["Action"]
    return {listed} if isinstance(listed, str) else set(listed)


def events_topic(template: StackTemplate) -> str:
    return template.topic("dogwalk-dev-events")


def ops_topic(template: StackTemplate) -> str:
    return template.topic("dogwalk-dev-ops")


def topic_key(template: StackTemplate, topic_id: str) -> str:
    [key_id] = referenced_ids(template.properties(topic_id)["KmsMasterKeyId"])
    assert template.resources[key_id]["Type"] == "AWS::KMS::Key"
    return key_id


def topic_policy(template: StackTemplate, topic_id: str) -> list[dict[str, Any]]:
    [policy] = [
        policy["Properties"]
        for policy in template.of_type("AWS::SNS::TopicPolicy").values()
        if referenced_ids(policy["Properties"]["Topics"]) == {topic_id}
    ]
    statements: list[dict[str, Any]] = policy["PolicyDocument"]["Statement"]
    return statements


def subscriptions(template: StackTemplate) -> dict[str, dict[str, Any]]:
    """Queue logical id → the properties of its subscription to the events topic."""
    topic_id = events_topic(template)
    found: dict[str, dict[str, Any]] = {}
    for subscription in template.of_type(SUBSCRIPTION).values():
        properties = subscription["Properties"]
        assert referenced_ids(properties["TopicArn"]) == {topic_id}
        [queue_id] = referenced_ids(properties["Endpoint"])
        assert queue_id not in found
        found[queue_id] = properties
    return found


def consumer_queue(template: StackTemplate, consumer: registry.QueueConsumer) -> tuple[str, dict[str, Any]]:
    """The queue the consumer's function reads (its event source mapping's) and that mapping."""
    function_id = template.python_functions()[consumer.name]
    [mapping] = [
        mapping["Properties"]
        for mapping in template.of_type("AWS::Lambda::EventSourceMapping").values()
        if referenced_ids(mapping["Properties"]["FunctionName"]) == {function_id}
    ]
    [queue_id] = referenced_ids(mapping["EventSourceArn"])
    return queue_id, mapping


def dead_letter_queues(template: StackTemplate) -> set[str]:
    return {
        dead_letters
        for queue in template.of_type("AWS::SQS::Queue").values()
        if "RedrivePolicy" in queue["Properties"]
        for dead_letters in referenced_ids(queue["Properties"]["RedrivePolicy"]["deadLetterTargetArn"])
    }


def warnings(synthesized: Synthesized, stack: str) -> list[str]:
    metadata = json.loads((synthesized.outdir / f"{stack}.metadata.json").read_text())
    return [entry["data"] for entries in metadata.values() for entry in entries if entry["type"] == "aws:cdk:warning"]


# --- the events topic ----------------------------------------------------------------------------


def test_setting_names() -> None:
    assert ENV["events_topic_arn"] == "DOGWALK_EVENTS_TOPIC_ARN"
    assert ENV["notifications_from_email"] == "DOGWALK_NOTIFICATIONS_FROM_EMAIL"
    assert ENV["push_fcm_application_arn"] == "DOGWALK_PUSH_FCM_APPLICATION_ARN"
    assert ENV["push_apns_application_arn"] == "DOGWALK_PUSH_APNS_APPLICATION_ARN"


def test_the_events_topic_is_encrypted_with_a_rotated_customer_managed_key(regional: list[StackTemplate]) -> None:
    for template in regional:
        topic_id = events_topic(template)
        key = template.properties(topic_key(template, topic_id))
        assert key["EnableKeyRotation"] is True
        # the default key policy (IAM decides who may use it); SNS delivers to the channel queues with
        # the `queues` key, whose policy has its grant (test_encryption)
        [statement] = key["KeyPolicy"]["Statement"]
        assert statement["Principal"] == {
            "AWS": {"Fn::Join": ["", ["arn:aws:iam::", {"Ref": "AWS::AccountId"}, ":root"]]}
        }


def test_the_events_topic_refuses_requests_without_tls(regional: list[StackTemplate]) -> None:
    for template in regional:
        topic_id = events_topic(template)
        [statement] = topic_policy(template, topic_id)
        assert statement["Effect"] == "Deny"
        assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_the_registry_declares_four_subscribed_channels() -> None:
    assert sorted(SUBSCRIBED) == [
        "notifications-email",
        "notifications-inbox",
        "notifications-push",
        "notifications-sms",
    ]
    assert SUBSCRIBED["notifications-sms"].events == registry.SMS_EVENTS


def test_exactly_the_four_channel_queues_subscribe_with_raw_delivery(regional: list[StackTemplate]) -> None:
    for template in regional:
        found = subscriptions(template)
        assert len(template.of_type(SUBSCRIPTION)) == len(found) == 4
        expected = {consumer_queue(template, consumer)[0]: consumer for consumer in SUBSCRIBED.values()}
        assert set(found) == set(expected)
        for queue_id, properties in found.items():
            assert properties["Protocol"] == "sqs"
            assert properties["RawMessageDelivery"] is True
            # on the message attributes (the default scope), which the relay sets
            assert properties.get("FilterPolicyScope", "MessageAttributes") == "MessageAttributes"
            events = expected[queue_id].events
            if events == ("*",):
                assert "FilterPolicy" not in properties, expected[queue_id].name
            else:
                assert properties["FilterPolicy"] == {"event_type": list(events)}


def test_the_sms_queue_takes_only_the_sms_events(primary: StackTemplate) -> None:
    queue_id, _ = consumer_queue(primary, SUBSCRIBED["notifications-sms"])
    assert subscriptions(primary)[queue_id]["FilterPolicy"] == {
        "event_type": ["booking.accepted", "booking.cancelled", "walk.started"]
    }


def test_the_topic_may_send_to_each_subscribed_queue_and_only_it(regional: list[StackTemplate]) -> None:
    for template in regional:
        topic_id = events_topic(template)
        for subscription in template.of_type(SUBSCRIPTION).values():
            [queue_id] = referenced_ids(subscription["Properties"]["Endpoint"])
            [(policy_id, policy)] = [
                (logical_id, policy["Properties"])
                for logical_id, policy in template.of_type("AWS::SQS::QueuePolicy").items()
                if referenced_ids(policy["Properties"]["Queues"]) == {queue_id}
            ]
            allowed = [
                statement for statement in policy["PolicyDocument"]["Statement"] if statement["Effect"] == "Allow"
            ]
            [statement] = allowed
            assert statement["Principal"] == {"Service": "sns.amazonaws.com"}
            assert statement["Action"] == "sqs:SendMessage"
            assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Ref": topic_id}}}
            assert referenced_ids(statement["Resource"]) == {queue_id}
            # the subscription waits for the policy, or SNS's first deliveries could be refused
            assert policy_id in subscription["DependsOn"]


def test_each_channel_queue_has_a_dead_letter_queue_and_its_consumer_reports_partial_failures(
    regional: list[StackTemplate],
) -> None:
    for template in regional:
        for consumer in SUBSCRIBED.values():
            queue_id, mapping = consumer_queue(template, consumer)
            assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"], consumer.name
            assert mapping["BatchSize"] == consumer.batch_size
            queue = template.properties(queue_id)
            # the region's `queues` key, whose policy lets SNS deliver from the events topic (test_encryption)
            assert "KmsMasterKeyId" in queue
            assert "SqsManagedSseEnabled" not in queue
            redrive = queue["RedrivePolicy"]
            assert redrive["maxReceiveCount"] == consumer.max_receive_count
            [dead_letters] = referenced_ids(redrive["deadLetterTargetArn"])
            assert template.resources[dead_letters]["Type"] == "AWS::SQS::Queue"
            assert dead_letters != queue_id


# --- EVENTS: publishing to the topic ---------------------------------------------------------------


def test_the_registry_declares_who_publishes_events() -> None:
    assert "relay_outbox" in PUBLISHERS
    assert "create_booking" in PUBLISHERS
    assert not PUBLISHERS & NOTIFIERS


def test_exactly_the_event_publishers_may_publish_and_know_the_topic(regional: list[StackTemplate]) -> None:
    for template in regional:
        topic_id = events_topic(template)
        key_id = topic_key(template, topic_id)
        functions = template.python_functions()
        assert set(functions) == {declaration.name for declaration in registry.functions()}
        for name, function_id in functions.items():
            granted: set[str] = set()
            for statement in template.statements_of(function_id):
                targets = referenced_ids(statement["Resource"])
                if targets & {topic_id, key_id}:
                    assert statement["Effect"] == "Allow"
                    granted |= actions_of(statement)
                    # the topic and its key, nothing else in the same statement
                    assert targets in ({topic_id}, {key_id}), statement
            variables = template.properties(function_id)["Environment"]["Variables"]
            if name in PUBLISHERS:
                assert granted == {"sns:Publish", "kms:GenerateDataKey", "kms:Decrypt"}, name
                assert variables[ENV["events_topic_arn"]] == {"Ref": topic_id}, name
            else:
                assert granted == set(), name
                assert ENV["events_topic_arn"] not in variables, name


def test_nobody_else_may_use_the_events_key(regional: list[StackTemplate]) -> None:
    for template in regional:
        key_id = topic_key(template, events_topic(template))
        for statement in template.iam_statements():
            if key_id in referenced_ids(statement["Resource"]):
                assert actions_of(statement) == {"kms:GenerateDataKey", "kms:Decrypt"}


# --- NOTIFY: email, SMS and push --------------------------------------------------------------------


def test_the_registry_declares_who_notifies() -> None:
    assert {
        "register_device",
        "delete_device",
        "notify_push",
        "notify_email",
        "notify_sms",
        "send_delayed_notifications",
    } == NOTIFIERS
    # inbox, preferences and the list of notifications are plain data
    for name in ("notify_inbox", "list_notifications", "read_notification", "get_notification_preferences"):
        assert name not in NOTIFIERS


def notify_grants(template: StackTemplate, function_id: str) -> list[dict[str, Any]]:
    return [
        statement
        for statement in template.statements_of(function_id)
        if actions_of(statement) & ({"ses:SendEmail", "sns:Publish"} | PUSH_ACTIONS)
    ]


def test_the_sender_identity_is_the_context_domain(regional: list[StackTemplate]) -> None:
    for template in regional:
        _, identity = template.only("AWS::SES::EmailIdentity")
        assert identity["Properties"]["EmailIdentity"] == "dogwalk.example"
        assert "NotificationsSenderDkimRecords" in template.template["Outputs"]


def test_exactly_the_notifiers_may_send_email_from_the_sender_and_text(regional: list[StackTemplate]) -> None:
    for template in regional:
        identity_id, _ = template.only("AWS::SES::EmailIdentity")
        topic_id = events_topic(template)
        for name, function_id in template.python_functions().items():
            variables = template.properties(function_id)["Environment"]["Variables"]
            statements = notify_grants(template, function_id)
            if name not in NOTIFIERS:
                # an event publisher's sns:Publish is on the events topic only
                for statement in statements:
                    assert actions_of(statement) == {"sns:Publish"}, name
                    assert referenced_ids(statement["Resource"]) == {topic_id}, name
                assert ENV["notifications_from_email"] not in variables, name
                continue
            [email] = [statement for statement in statements if "ses:SendEmail" in actions_of(statement)]
            assert actions_of(email) == {"ses:SendEmail"}
            assert referenced_ids(email["Resource"]) - {"AWS::AccountId"} == {identity_id}
            assert email["Resource"]["Fn::Join"][1][-2] == ":identity/"
            assert email["Condition"] == {"StringEquals": {"ses:FromAddress": "notifications@dogwalk.example"}}
            # SMS: phone numbers have no ARN
            assert any(
                "sns:Publish" in actions_of(statement) and statement["Resource"] == "*" for statement in statements
            ), name
            assert variables[ENV["notifications_from_email"]] == "DogWalk <notifications@dogwalk.example>"
            # no platform application in the context: nothing to push through
            assert variables[ENV["push_fcm_application_arn"]] == ""
            assert variables[ENV["push_apns_application_arn"]] == ""
            assert not any(actions_of(statement) & PUSH_ACTIONS for statement in statements), name


def test_without_platform_applications_the_synth_warns(synthesized: Synthesized) -> None:
    for stack in (synthesized.primary, synthesized.secondary):
        [warning] = [text for text in warnings(synthesized, stack) if "platform application" in text]
        assert "fcm" in warning
        assert "apns" in warning


def test_with_platform_applications_notifiers_manage_their_endpoints_and_push(
    extras: StackTemplate, synthesized: Synthesized
) -> None:
    fcm = EXTRA_PLATFORM_APPLICATIONS["fcm_platform_application_arn"]
    apns = EXTRA_PLATFORM_APPLICATIONS["apns_platform_application_arn"]
    assert not [text for text in warnings(synthesized, "DogWalk-test-extras") if "platform application" in text]
    for name, function_id in extras.python_functions().items():
        statements = notify_grants(extras, function_id)
        variables = extras.properties(function_id)["Environment"]["Variables"]
        if name != EXTRA_NOTIFY_ENDPOINT.name:
            assert statements == [], name
            assert ENV["push_fcm_application_arn"] not in variables
            continue
        assert variables[ENV["push_fcm_application_arn"]] == fcm
        assert variables[ENV["push_apns_application_arn"]] == apns
        [create] = [statement for statement in statements if "sns:CreatePlatformEndpoint" in actions_of(statement)]
        assert actions_of(create) == {"sns:CreatePlatformEndpoint"}
        assert sorted(create["Resource"]) == sorted([fcm, apns])
        [endpoints] = [statement for statement in statements if "sns:DeleteEndpoint" in actions_of(statement)]
        assert actions_of(endpoints) == PUSH_ACTIONS - {"sns:CreatePlatformEndpoint"} | {"sns:Publish"}
        assert sorted(endpoints["Resource"]) == [
            "arn:aws:sns:us-east-1:123456789012:endpoint/APNS/dogwalk-test-apns/*",
            "arn:aws:sns:us-east-1:123456789012:endpoint/GCM/dogwalk-test-fcm/*",
        ]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("fcm_platform_application_arn", "arn:aws:sns:us-east-1:123456789012:app/APNS/swapped"),
        ("apns_platform_application_arn", "arn:aws:sns:us-east-1:123456789012:app/GCM/swapped"),
        ("fcm_platform_application_arn", "dogwalk-fcm"),
        ("apns_platform_application_arn", "arn:aws:sns:us-east-1:123456789012:dogwalk-apns"),
    ],
)
def test_a_platform_application_arn_is_checked(synthesized_deployment: Deployment, key: str, value: str) -> None:
    stack = Stack(App(), "Checked", env=Environment(region="us-east-1"))
    with pytest.raises(ValueError, match=f"{key}=.* is not the ARN of an SNS platform application"):
        Notifications(stack, "Notifications", deployment=dataclasses.replace(synthesized_deployment, **{key: value}))


def test_a_consumer_cannot_take_all_events_and_some(synthesized_deployment: Deployment) -> None:
    stack = Stack(App(), "Subscriptions", env=Environment(region="us-east-1"))
    notifications = Notifications(stack, "Notifications", deployment=synthesized_deployment)
    both = registry.QueueConsumer(name="both", queue="both", events=("*", "walk.started"))
    with pytest.raises(ValueError, match="takes all of them"):
        notifications.subscribe((both,), {})


# --- schedules and alarms ------------------------------------------------------------------------


def test_the_relay_and_the_delayed_sender_run_every_minute(regional: list[StackTemplate]) -> None:
    for template in regional:
        functions = template.python_functions()
        rates = {}
        for rule in template.of_type("AWS::Events::Rule").values():
            if "ScheduleExpression" not in rule["Properties"]:  # the restore validation's event rule
                continue
            [target] = rule["Properties"]["Targets"]
            [function_id] = referenced_ids(target["Arn"])
            rates[function_id] = rule["Properties"]["ScheduleExpression"]
        assert rates[functions["relay_outbox"]] == "rate(1 minute)"
        assert rates[functions["send_delayed_notifications"]] == "rate(1 minute)"


def test_one_alarm_per_dead_letter_queue_to_the_ops_topic(regional: list[StackTemplate], extras: StackTemplate) -> None:
    expectations = [*((template, len(registry.QUEUE_CONSUMERS)) for template in regional), (extras, 1)]
    for template, expected in expectations:
        ops = ops_topic(template)
        dead_letters = dead_letter_queues(template)
        assert len(dead_letters) == expected
        alarmed: list[str] = []
        for alarm in template.of_type(ALARM).values():
            properties = alarm["Properties"]
            assert properties["Namespace"] == "AWS/SQS"
            assert properties["MetricName"] == "ApproximateNumberOfMessagesVisible"
            assert properties["ComparisonOperator"] == "GreaterThanThreshold"
            assert properties["Threshold"] == 0
            assert properties["Statistic"] == "Maximum"
            assert properties["EvaluationPeriods"] == 1
            assert properties["TreatMissingData"] == "notBreaching"
            assert properties["AlarmName"].startswith("dogwalk-dev-")
            assert properties["AlarmActions"] == [{"Ref": ops}]
            [dimension] = properties["Dimensions"]
            assert dimension["Name"] == "QueueName"
            alarmed += referenced_ids(dimension["Value"])
        assert sorted(alarmed) == sorted(dead_letters)
    walk_messages = [
        alarm for alarm in regional[0].of_type(ALARM).values() if "walk-messages" in alarm["Properties"]["AlarmName"]
    ]
    assert len(walk_messages) == 1
    assert EXTRA_CONSUMER.queue in next(iter(extras.of_type(ALARM).values()))["Properties"]["AlarmName"]


def test_cloudwatch_may_publish_to_the_encrypted_ops_topic(regional: list[StackTemplate]) -> None:
    for template in regional:
        ops = ops_topic(template)
        key = template.properties(topic_key(template, ops))
        assert key["EnableKeyRotation"] is True
        [cloudwatch_key] = [
            statement
            for statement in key["KeyPolicy"]["Statement"]
            if statement.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}
        ]
        assert set(cloudwatch_key["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey"}
        statements = topic_policy(template, ops)
        [tls] = [statement for statement in statements if statement["Effect"] == "Deny"]
        assert tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        [publish] = [statement for statement in statements if statement["Effect"] == "Allow"]
        assert publish["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
        assert publish["Action"] == "sns:Publish"
        assert publish["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
        source = publish["Condition"]["ArnLike"]["aws:SourceArn"]["Fn::Join"][1]
        assert source[0].startswith("arn:aws:cloudwatch:")
        assert source[-1] == ":alarm:dogwalk-dev-*"


# --- compliance ------------------------------------------------------------------------------------


def test_the_notification_acknowledgements_carry_their_reasons(synthesized: Synthesized) -> None:
    report = json.loads((synthesized.outdir / "validation-report.json").read_text())
    [nag] = [plugin for plugin in report["pluginReports"] if plugin["pluginName"] == "AwsSolutions"]
    assert nag["violations"] == []
    for suppressed in nag["suppressedViolations"]:
        assert suppressed["reason"].strip(), suppressed["ruleName"]
    reasons = {suppressed["reason"] for suppressed in nag["suppressedViolations"]}
    # the SMS wildcard, with tracing's, and the push endpoints (extras stack)
    assert any("phone number" in reason and "xray" in reason for reason in reasons)
    assert any("endpoints of this platform application" in reason for reason in reasons)
