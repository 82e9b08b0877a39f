"""Error-budget burn-rate alarms per endpoint class (infra/observability.py), in the Observability nested stack."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from nested_stacks import Nested
from stack_template import Synthesized, ops_topic, referenced_ids

from dogwalk import registry
from infra.observability import (
    AVAILABILITY_SLO,
    BURN_RATES,
    ENDPOINT_CLASSES,
    FILTER_PATTERN_LIMIT,
    SLO_NAMESPACE,
    class_filter_patterns,
    endpoint_class,
)

pytestmark = pytest.mark.infra

ALARM = "AWS::CloudWatch::Alarm"
COMPOSITE = "AWS::CloudWatch::CompositeAlarm"
METRIC_FILTER = "AWS::Logs::MetricFilter"
TERM = re.compile(r'\$\.httpMethod = "(\w+)" && \$\.resourcePath = "([^"]+)"')
# (rate, long window, short window, burn factor) of the SRE workbook's two paging alerts
EXPECTED = {("fast", 3600, 300, 14.4), ("slow", 21600, 1800, 6.0)}


def class_endpoints(klass: str) -> set[tuple[str, str]]:
    return {(e.method, e.path) for e in registry.ENDPOINTS if endpoint_class(e) == klass}


def metric_stats(alarm: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The alarm's metric-math inputs: id → MetricStat."""
    return {query["Id"]: query["MetricStat"] for query in alarm["Metrics"] if "MetricStat" in query}


def test_the_budget_is_the_slo_and_the_rates_are_the_workbook_s() -> None:
    assert AVAILABILITY_SLO == 0.999
    assert {
        (rate.name, rate.long_window.to_seconds(), rate.short_window.to_seconds(), rate.factor) for rate in BURN_RATES
    } == EXPECTED
    assert [rate.threshold for rate in BURN_RATES] == [0.0144, 0.006]


def test_each_request_of_a_class_is_counted_once_and_5xx_only_as_errors(
    observability: list[Nested], synthesized: Synthesized
) -> None:
    stage = synthesized.deployment.stage
    for stack in observability:
        [access_logs] = [
            logical_id
            for logical_id in stack.parent.of_type("AWS::Logs::LogGroup")
            if logical_id.startswith("ApiAccessLogs")
        ]
        counted: dict[str, list[tuple[str, str]]] = {}
        for resource in stack.template.of_type(METRIC_FILTER).values():
            properties = resource["Properties"]
            assert stack.parameter_source(properties["LogGroupName"]) == {access_logs}
            [transformation] = properties["MetricTransformations"]
            assert transformation["MetricNamespace"] == SLO_NAMESPACE
            assert (transformation["MetricValue"], transformation["DefaultValue"]) == ("1", 0)
            pattern = properties["FilterPattern"]
            assert len(pattern) <= FILTER_PATTERN_LIMIT
            is_errors = transformation["MetricName"].endswith("-server-errors")
            assert pattern.startswith('{ $.status = "5*" && (') == is_errors, pattern
            counted.setdefault(transformation["MetricName"], []).extend(TERM.findall(pattern))
        assert set(counted) == {
            f"{stage}-{k}-{what}" for k in ENDPOINT_CLASSES for what in ("requests", "server-errors")
        }
        for klass in ENDPOINT_CLASSES:
            for what in ("requests", "server-errors"):
                terms = counted[f"{stage}-{klass}-{what}"]
                # disjoint filters feeding one metric: every endpoint of the class once, no other
                assert sorted(terms) == sorted(class_endpoints(klass)), (klass, what)


def test_filter_patterns_split_where_cloudwatch_logs_would_refuse_them() -> None:
    writes = [e for e in registry.ENDPOINTS if endpoint_class(e) == "writes"]
    patterns = class_filter_patterns(writes, server_errors=True)
    assert len(patterns) > 1
    assert all(len(pattern) <= FILTER_PATTERN_LIMIT for pattern in patterns)
    assert sorted(term for pattern in patterns for term in TERM.findall(pattern)) == sorted(class_endpoints("writes"))


def test_each_class_pages_on_both_windows_of_each_burn_rate(
    observability: list[Nested], synthesized: Synthesized
) -> None:
    stage = synthesized.deployment.stage
    for stack in observability:
        alarms = stack.template.of_type(ALARM)
        composites = {
            resource["Properties"]["AlarmName"]: resource["Properties"]
            for resource in stack.template.of_type(COMPOSITE).values()
        }
        assert set(composites) == {
            f"dogwalk-{stage}-{klass}-error-budget-{rate.name}" for klass in ENDPOINT_CLASSES for rate in BURN_RATES
        }
        for klass in ENDPOINT_CLASSES:
            for name, long_s, short_s, factor in EXPECTED:
                composite = composites[f"dogwalk-{stage}-{klass}-error-budget-{name}"]
                assert stack.parameter_source(composite["AlarmActions"]) == {ops_topic(stack.parent, stage)}
                rule = composite["AlarmRule"]
                # ALARM(long) AND ALARM(short): both windows at once
                _, parts = rule["Fn::Join"]
                assert [part for part in parts if isinstance(part, str)] == ['(ALARM("', '") AND ALARM("', '"))']
                windows = set()
                for alarm_id in referenced_ids(rule):
                    alarm = alarms[alarm_id]["Properties"]
                    assert "AlarmActions" not in alarm  # only the composite notifies
                    assert alarm["Threshold"] == pytest.approx(factor * (1 - AVAILABILITY_SLO))
                    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
                    assert alarm["EvaluationPeriods"] == 1
                    stats = metric_stats(alarm)
                    assert {stat["Metric"]["MetricName"] for stat in stats.values()} == {
                        f"{stage}-{klass}-requests",
                        f"{stage}-{klass}-server-errors",
                    }
                    assert {stat["Metric"]["Namespace"] for stat in stats.values()} == {SLO_NAMESPACE}
                    assert {stat["Stat"] for stat in stats.values()} == {"Sum"}
                    [period] = {stat["Period"] for stat in stats.values()}
                    windows.add(period)
                    [expression] = [query["Expression"] for query in alarm["Metrics"] if query.get("ReturnData", True)]
                    assert expression == f"IF(requests_{klass} > 0, errors_{klass} / requests_{klass}, 0)"
                assert windows == {long_s, short_s}, (klass, name)


def test_the_plain_5xx_threshold_stays_and_the_dashboard_shows_the_budget_left(observability: list[Nested]) -> None:
    for stack in observability:
        names = {alarm["Properties"]["AlarmName"] for alarm in stack.template.of_type(ALARM).values()}
        assert any(name.endswith("-api-5xx-rate") for name in names)
        _, dashboard = stack.template.only("AWS::CloudWatch::Dashboard")
        body = json.dumps(dashboard["Properties"]["DashboardBody"])
        assert "Error budget left, last 30 days (SLO 99.9%)" in body
        for klass in ENDPOINT_CLASSES:
            assert f"{klass} (%)" in body
            assert f"100 * (1 - ratio_{klass} / 0.001)" in body
        # the budget alarms are on the status widget too
        composites = set(stack.template.of_type(COMPOSITE))
        assert len(composites) == len(ENDPOINT_CLASSES) * len(BURN_RATES)
        assert composites <= referenced_ids(dashboard["Properties"]["DashboardBody"])
