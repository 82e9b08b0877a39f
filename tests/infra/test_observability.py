"""Observability per region: the dashboard, SLO alarms to the ops topic, saved queries, tracing and retention."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint_file
from nested_stacks import NESTED, Nested, all_nested, canary_stacks, nested
from stack_template import LAMBDA, StackTemplate, Synthesized, ops_topic, referenced_ids

from dogwalk import registry
from infra.observability import (
    AVAILABILITY_SLO,
    LATENCY_SLO,
    PAYMENT_DECLINED,
    QUERY_LOG_GROUP_LIMIT,
    endpoint_class,
)

pytestmark = pytest.mark.infra

ALARM = "AWS::CloudWatch::Alarm"
QUERY = "AWS::Logs::QueryDefinition"
WIDGETS = (
    "API requests",
    "API 4xx and 5xx rate",
    "p99 latency: reads (SLO 300 ms)",
    "p99 latency: writes (SLO 800 ms)",
    "p99 latency: payments (SLO 2000 ms)",
    "Lambda p99 duration per endpoint function",
    "Lambda errors",
    "Lambda throttles",
    "Dead-letter queue depths",
    f"Ingest lag: {registry.WALK_MESSAGES_QUEUE} oldest message age",
    "SLO alarms",
)


@pytest.fixture(scope="module")
def saved_queries(synthesized: Synthesized, with_functions: dict[str, StackTemplate]) -> list[Nested]:
    return [
        nested(synthesized, name, "Queries", parent=with_functions[name])
        for name in (synthesized.primary, synthesized.secondary)
    ]


def dimensions(alarm: dict[str, Any]) -> dict[str, Any]:
    return {dimension["Name"]: dimension["Value"] for dimension in alarm["Properties"].get("Dimensions", [])}


def alarms_named(stack: Nested, suffix: str) -> dict[str, Any]:
    [alarm] = [
        resource
        for resource in stack.template.of_type(ALARM).values()
        if resource["Properties"]["AlarmName"].endswith(suffix)
    ]
    return alarm


def assert_notifies_ops(stack: Nested, alarm: dict[str, Any], stage: str) -> None:
    actions = alarm["Properties"]["AlarmActions"]
    assert stack.parameter_source(actions) == {ops_topic(stack.parent, stage)}


def dashboard_body(stack: Nested) -> str:
    _, dashboard = stack.template.only("AWS::CloudWatch::Dashboard")
    return json.dumps(dashboard["Properties"]["DashboardBody"])


def test_one_dashboard_per_region_with_every_widget(observability: list[Nested], synthesized: Synthesized) -> None:
    regions = synthesized.deployment.regions
    for stack, region in zip(observability, regions, strict=True):
        _, dashboard = stack.template.only("AWS::CloudWatch::Dashboard")
        # dashboards are global to the account: one name per region
        assert dashboard["Properties"]["DashboardName"] == f"dogwalk-{synthesized.deployment.stage}-{region}"
        body = dashboard_body(stack)
        for title in WIDGETS:
            assert f'\\"title\\":\\"{title}\\"' in body, title


def test_dashboard_plots_every_function_and_dead_letter_queue(observability: list[Nested]) -> None:
    for stack in observability:
        body = dashboard_body(stack)
        functions = set(stack.parent.python_functions().values())
        plotted = stack.parameter_source(stack.template.resources)
        assert functions <= plotted
        dead_letter_targets = {
            queue["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
            for queue in stack.parent.of_type("AWS::SQS::Queue").values()
            if "RedrivePolicy" in queue["Properties"]
        }
        assert dead_letter_targets <= plotted
        for metric in ("Duration", "Errors", "Throttles", "ApproximateNumberOfMessagesVisible"):
            assert f'\\"{metric}\\"' in body


def test_dashboard_shows_database_connections_when_the_region_has_a_database(
    observability: list[Nested], synthesized: Synthesized
) -> None:
    for stack, stack_name in zip(observability, (synthesized.primary, synthesized.secondary), strict=True):
        has_database = any(
            template.of_type("AWS::RDS::DBCluster") or template.of_type("AWS::RDS::DBProxy")
            for template in [stack.parent, *all_nested(synthesized, stack_name).values()]
        )
        body = dashboard_body(stack)
        assert ('\\"title\\":\\"Database connections\\"' in body) == has_database
        if has_database:
            assert '\\"AWS/RDS\\",\\"DatabaseConnections\\"' in body


def test_api_5xx_rate_alarm_notifies_ops(observability: list[Nested], synthesized: Synthesized) -> None:
    stage = synthesized.deployment.stage
    for stack in observability:
        alarm = alarms_named(stack, "-api-5xx-rate")
        properties = alarm["Properties"]
        assert properties["AlarmName"] == f"dogwalk-{stage}-api-5xx-rate"
        assert (properties["Namespace"], properties["MetricName"]) == ("AWS/ApiGateway", "5XXError")
        # the average of 5XXError is the share of requests answered 5xx
        assert properties["Statistic"] == "Average"
        assert properties["Period"] == 300
        assert properties["EvaluationPeriods"] == 1
        assert properties["Threshold"] == 0.01
        assert properties["ComparisonOperator"] == "GreaterThanThreshold"
        assert dimensions(alarm) == {"ApiName": f"dogwalk-{stage}", "Stage": stage}
        assert_notifies_ops(stack, alarm, stage)


def test_the_stage_has_detailed_metrics_for_the_per_method_alarms(regional: list[StackTemplate]) -> None:
    for template in regional:
        _, stage = template.only("AWS::ApiGateway::Stage")
        assert {"HttpMethod": "*", "ResourcePath": "/*", "MetricsEnabled": True}.items() <= next(
            setting for setting in stage["Properties"]["MethodSettings"] if setting["ResourcePath"] == "/*"
        ).items()


def test_p99_latency_alarm_per_endpoint_at_its_class_slo(observability: list[Nested], synthesized: Synthesized) -> None:
    stage = synthesized.deployment.stage
    assert AVAILABILITY_SLO == 0.999
    expected_ms = {"reads": 300, "writes": 800, "payments": 2000}
    assert {klass: slo.to_milliseconds() for klass, slo in LATENCY_SLO.items()} == expected_ms
    for stack in observability:
        for endpoint in registry.ENDPOINTS:
            alarm = alarms_named(stack, f"-{endpoint.name}-latency-p99")
            properties = alarm["Properties"]
            assert (properties["Namespace"], properties["MetricName"]) == ("AWS/ApiGateway", "Latency")
            assert properties["ExtendedStatistic"] == "p99"
            assert properties["Threshold"] == expected_ms[endpoint_class(endpoint)], endpoint.name
            assert properties["ComparisonOperator"] == "GreaterThanThreshold"
            assert dimensions(alarm) == {
                "ApiName": f"dogwalk-{stage}",
                "Stage": stage,
                "Method": endpoint.method,
                "Resource": endpoint.path,
            }
            assert_notifies_ops(stack, alarm, stage)


def test_endpoint_classes() -> None:
    classes = {endpoint.name: endpoint_class(endpoint) for endpoint in registry.ENDPOINTS}
    assert classes["get_health"] == "reads"
    assert classes["create_dog"] == "writes"
    assert classes["create_booking"] == "payments"
    assert classes["receive_payment_webhook"] == "payments"
    assert set(classes.values()) == {"reads", "writes", "payments"}


def test_ingest_age_alarm_on_walk_messages(observability: list[Nested], synthesized: Synthesized) -> None:
    stage = synthesized.deployment.stage
    for stack in observability:
        alarm = alarms_named(stack, f"-{registry.WALK_MESSAGES_QUEUE}-oldest-message-age")
        properties = alarm["Properties"]
        assert (properties["Namespace"], properties["MetricName"]) == ("AWS/SQS", "ApproximateAgeOfOldestMessage")
        assert properties["Threshold"] == 60
        assert properties["ComparisonOperator"] == "GreaterThanThreshold"
        # the queue the ingest function consumes
        [queue_id] = stack.parameter_source(dimensions(alarm)["QueueName"])
        ingest = stack.parent.python_functions()["ingest_walk_messages"]
        mappings = [
            mapping["Properties"]
            for mapping in stack.parent.of_type("AWS::Lambda::EventSourceMapping").values()
            if referenced_ids(mapping["Properties"]["FunctionName"]) == {ingest}
        ]
        assert [referenced_ids(mapping["EventSourceArn"]) for mapping in mappings] == [{queue_id}]
        assert_notifies_ops(stack, alarm, stage)


def test_every_dead_letter_queue_has_an_alarm_to_ops(regional: list[StackTemplate], synthesized: Synthesized) -> None:
    for template in regional:
        topic = ops_topic(template, synthesized.deployment.stage)
        dead_letter_queues = {
            queue["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
            for queue in template.of_type("AWS::SQS::Queue").values()
            if "RedrivePolicy" in queue["Properties"]
        }
        alarmed = {
            next(iter(referenced_ids(dimensions(alarm)["QueueName"])))
            for alarm in template.of_type(ALARM).values()
            if alarm["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible"
            and alarm["Properties"]["Threshold"] == 0
            and referenced_ids(alarm["Properties"]["AlarmActions"]) == {topic}
        }
        assert dead_letter_queues
        assert dead_letter_queues <= alarmed


def queries(stack: Nested) -> dict[str, dict[str, Any]]:
    return {query["Properties"]["Name"]: query["Properties"] for query in stack.template.of_type(QUERY).values()}


def function_log_groups(template: StackTemplate) -> dict[str, str]:
    """Registry name → the logical id of its function's log group."""
    return {
        name: template.properties(function_id)["LoggingConfig"]["LogGroup"]["Ref"]
        for name, function_id in template.python_functions().items()
    }


def test_saved_queries_answer_the_common_questions(saved_queries: list[Nested], synthesized: Synthesized) -> None:
    stage = synthesized.deployment.stage
    for stack in saved_queries:
        names = set(queries(stack))
        for question in ("errors-by-function", "slowest-requests", "request-by-id"):
            for klass in ("reads", "writes", "payments"):
                assert f"dogwalk-{stage}/{question}/{klass}" in names
        assert f"dogwalk-{stage}/errors-by-function/background" in names
        for question in ("payment-failures", "ingest-drops-by-reason", "notifications-sent-by-channel"):
            assert f"dogwalk-{stage}/{question}/all" in names
        assert PAYMENT_DECLINED in queries(stack)[f"dogwalk-{stage}/payment-failures/all"]["QueryString"]


def test_saved_queries_read_real_log_groups(saved_queries: list[Nested], synthesized: Synthesized) -> None:
    stage = synthesized.deployment.stage
    for stack in saved_queries:
        log_groups = function_log_groups(stack.parent)
        access_logs = {
            logical_id
            for logical_id in stack.parent.of_type("AWS::Logs::LogGroup")
            if logical_id.startswith("ApiAccessLogs")
        }
        real = set(log_groups.values()) | access_logs
        covered: dict[str, set[str]] = {}
        for name, query in queries(stack).items():
            groups = [stack.parameter_source(group) for group in query["LogGroupNames"]]
            assert all(len(group) == 1 for group in groups), name
            read = set().union(*groups)
            assert read <= real, name
            assert 0 < len(query["LogGroupNames"]) <= QUERY_LOG_GROUP_LIMIT, name
            covered[name] = read
        every_function = set().union(*(read for name, read in covered.items() if "/errors-by-function/" in name))
        assert every_function == set(log_groups.values())
        payers = {log_groups[d.name] for d in registry.functions() if registry.PAYMENTS in d.uses}
        assert covered[f"dogwalk-{stage}/payment-failures/all"] == payers
        assert covered[f"dogwalk-{stage}/ingest-drops-by-reason/all"] == {log_groups["ingest_walk_messages"]}
        assert {log_groups[name] for name in ("notify_inbox", "notify_push", "notify_email", "notify_sms")} <= covered[
            f"dogwalk-{stage}/notifications-sent-by-channel/all"
        ]
        assert access_logs <= covered[f"dogwalk-{stage}/request-by-id/reads"]


def test_xray_active_on_every_function(regional: list[StackTemplate], extras: StackTemplate) -> None:
    for template in [*regional, extras]:
        functions = template.of_type(LAMBDA)
        assert functions
        for logical_id, function in functions.items():
            assert function["Properties"].get("TracingConfig") == {"Mode": "Active"}, logical_id


def test_retention_on_every_log_group_and_every_function_logs_into_one(
    regional: list[StackTemplate], synthesized: Synthesized
) -> None:
    for template, stack_name in zip(regional, (synthesized.primary, synthesized.secondary), strict=True):
        for candidate in [template, *all_nested(synthesized, stack_name).values()]:
            for logical_id, log_group in candidate.of_type("AWS::Logs::LogGroup").items():
                assert log_group["Properties"].get("RetentionInDays"), logical_id
        for logical_id, function in template.of_type(LAMBDA).items():
            log_group = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
            assert template.properties(log_group)["RetentionInDays"] == 30, logical_id


def test_each_regional_stack_and_nested_stack_stays_within_cloudformation_limits(
    synthesized: Synthesized,
) -> None:
    for stack_name, template in synthesized.templates.items():
        assert len(template.resources) < 500, (stack_name, len(template.resources))
        for file_name, child in all_nested(synthesized, stack_name).items():
            assert len(child.resources) < 500, (file_name, len(child.resources))
            assert len(child.template.get("Parameters", {})) <= 200, file_name
            assert len(child.template.get("Outputs", {})) <= 200, file_name


def test_observability_and_canary_templates_pass_cfn_lint(synthesized: Synthesized) -> None:
    regions = {synthesized.primary: synthesized.deployment.primary_region}
    regions[synthesized.secondary] = synthesized.deployment.secondary_region
    findings = []
    for stack_name, region in regions.items():
        stacks = [nested(synthesized, stack_name, "Observability"), nested(synthesized, stack_name, "Queries")]
        # `Canary`, and `Canary<Service>` per nested service (infra/stack.py NESTED_SERVICES)
        stacks += canary_stacks(synthesized, stack_name)
        for path in (stack.path for stack in stacks):
            findings += [
                f"{path.name}: {match.rule.id} {match.message}"
                for match in lint_file(path, config=ManualArgs(regions=[region]))
            ]
    assert findings == []


def test_nested_stacks_are_nested_in_the_regional_stacks(regional: list[StackTemplate]) -> None:
    for template in regional:
        nested_ids = set(template.of_type(NESTED))
        assert any(logical_id.startswith("ObservabilityNestedStack") for logical_id in nested_ids)
        assert any(logical_id.startswith("QueriesNestedStack") for logical_id in nested_ids)
        assert any(logical_id.startswith("CanaryNestedStack") for logical_id in nested_ids)
        assert any(logical_id.startswith("ApiRoutesNestedStack") for logical_id in nested_ids)
