"""Stock OwnTracks apps over MQTT (issue 16): the topic rule `owntracks/+/+` queues their messages for
the same ingest as the walker app's; their HTTP endpoint has no token authorizer (the function
checks the tracker's own credentials), and the device authorizer needs no grant beyond its own."""

from __future__ import annotations

import pytest
from stack_template import StackTemplate, referenced_ids

from dogwalk import registry

pytestmark = pytest.mark.infra

SQL = "SELECT *, topic() AS topic FROM 'owntracks/+/+'"


def rule_payloads(template: StackTemplate) -> dict[str, dict]:
    return {
        rule["Properties"]["TopicRulePayload"]["Sql"]: rule["Properties"]["TopicRulePayload"]
        for rule in template.of_type("AWS::IoT::TopicRule").values()
    }


def test_the_owntracks_rule_queues_for_the_walk_ingest_with_its_dead_letters(regional: list[StackTemplate]) -> None:
    [rule] = [rule for rule in registry.TOPIC_RULES if rule.name == "owntracks_messages"]
    assert rule.sql == SQL and rule.queue == registry.WALK_MESSAGES_QUEUE
    for template in regional:
        payloads = rule_payloads(template)
        function = template.python_functions()["ingest_walk_messages"]
        [mapping] = [
            mapping["Properties"]
            for mapping in template.of_type("AWS::Lambda::EventSourceMapping").values()
            if referenced_ids(mapping["Properties"]["FunctionName"]) == {function}
        ]
        [queue_id] = referenced_ids(mapping["EventSourceArn"])
        dead_letters = referenced_ids(template.properties(queue_id)["RedrivePolicy"]["deadLetterTargetArn"])
        owntracks, walks = payloads[SQL], payloads["SELECT *, topic() AS topic FROM 'dogwalk/walks/+/+'"]
        assert owntracks["AwsIotSqlVersion"] == "2016-03-23" and owntracks["RuleDisabled"] is False
        [action] = owntracks["Actions"]
        assert referenced_ids(action["Sqs"]["QueueUrl"]) == {queue_id}
        assert action["Sqs"]["UseBase64"] is False
        assert referenced_ids(owntracks["ErrorAction"]["Sqs"]["QueueUrl"]) == dead_letters
        # a role of its own, not the walk rule's
        assert referenced_ids(action["Sqs"]["RoleArn"]) != referenced_ids(walks["Actions"][0]["Sqs"]["RoleArn"])


def test_the_tracker_endpoint_has_no_token_authorizer_and_the_credentials_endpoints_do() -> None:
    by_name = {endpoint.name: endpoint for endpoint in registry.ENDPOINTS}
    assert by_name["post_tracker_locations"].public  # tests/infra/test_api.py: no authorizer on public methods
    assert not by_name["create_tracker"].public and not by_name["delete_tracker"].public
    assert by_name["create_tracker"].roles == by_name["delete_tracker"].roles == frozenset({"walker"})


def test_the_device_authorizer_checks_tracker_credentials_with_what_it_already_had(primary: StackTemplate) -> None:
    # the tracker's digest is in PostgreSQL and the failures' counts in Redis: no new grant, no new secret
    assert registry.DEVICE_AUTHORIZER.uses == frozenset({registry.SIGNING_KEYS_READ, registry.DATABASE, registry.CACHE})
    function = primary.python_functions()[registry.DEVICE_AUTHORIZER.name]
    actions = {
        action
        for statement in primary.statements_of(function)
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    }
    assert not {action for action in actions if action.startswith("iot:")}
