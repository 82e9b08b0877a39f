"""The region's dashboard and its SLO alarms (a nested stack), and the saved Logs Insights queries (another).

The regional stack is close to CloudFormation's 500 resources, so everything here lives in nested
stacks of their own: CDK passes the parent's function names, log groups, queues and the ops topic in
as parameters, and a template takes at most 200 of them. The dashboard and the alarms need each
function's name, the saved queries each function's log group: two stacks, one parameter per function
in each (one stack with both was at 174 of 200 with 84 functions; now about 190 functions fit).
The API's metrics are addressed by name (`ApiName`, `Stage`, `Method`,
`Resource` — the stage has detailed metrics on), so nothing here depends on the API's deployment.

Endpoint classes and their SLOs (the README's "SLOs and observability" table is the same):
payments (an endpoint that calls the payment gateway) p99 ≤ 2 s, other reads (GET) ≤ 300 ms,
other writes ≤ 800 ms; availability 99.9 % per class; ingest freshness: the oldest walk message
waits ≤ 60 s.

Availability is watched as an error budget (`BURN_RATES`): per class, metric filters on the API's
access log count its requests and its 5xx answers (`DogWalk/SLO`, `<stage>-<class>-requests` and
`-server-errors`); a composite alarm per burn rate (1 h AND 5 min above 14.4x, 6 h AND 30 min above
6x) notifies the ops topic, beside the plain 5xx-rate threshold; the dashboard shows the budget
left over 30 days.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import Duration, NestedStack, Stack, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from dogwalk import registry
from infra.functions import pascal_case

READS, WRITES, PAYMENTS, BACKGROUND = "reads", "writes", "payments", "background"
ENDPOINT_CLASSES = (READS, WRITES, PAYMENTS)
# p99 latency objective of each endpoint class
LATENCY_SLO = {READS: Duration.millis(300), WRITES: Duration.millis(800), PAYMENTS: Duration.seconds(2)}
AVAILABILITY_SLO = 0.999
# the REST API's 5xx share over five minutes above which the ops topic hears of it
SERVER_ERROR_RATE_THRESHOLD = 0.01
INGEST_AGE_THRESHOLD = Duration.seconds(60)
# the availability SLO's error budget: what 99.9 % leaves over 30 days
ERROR_BUDGET = round(1 - AVAILABILITY_SLO, 6)
BUDGET_PERIOD = Duration.days(30)
# the per-class request and 5xx counts, made from the REST API's access log by metric filters
SLO_NAMESPACE = "DogWalk/SLO"
# CloudWatch Logs takes filter patterns up to 1024 characters: a class's endpoints span several filters
FILTER_PATTERN_LIMIT = 1024
# Logs Insights runs a query over at most 50 log groups: the saved queries go by function group
QUERY_LOG_GROUP_LIMIT = 50
PAYMENT_DECLINED = "payment_declined"


@dataclass(frozen=True)
class BurnRate:
    """One multi-window burn-rate alert (Google SRE workbook, "Alerting on SLOs", for a 30-day budget).

    It fires when the error ratio over the long window AND over the short one are both above
    `factor` x the error budget: the long window says enough budget is gone, the short one that it
    is still going (so the alert clears soon after the errors stop).
    """

    name: str
    factor: float
    long_window: Duration
    short_window: Duration

    @property
    def threshold(self) -> float:
        """The error ratio above which the budget burns at `factor` times its sustainable rate."""
        return round(self.factor * ERROR_BUDGET, 6)


# 14.4x for 1 h spends 2 % of the 30-day budget, 6x for 6 h 5 %: both page
BURN_RATES = (
    BurnRate("fast", 14.4, Duration.hours(1), Duration.minutes(5)),
    BurnRate("slow", 6.0, Duration.hours(6), Duration.minutes(30)),
)


def window_label(window: Duration) -> str:
    """`1h`, `5m`, `6h`, `30m`: a window in the alarm names."""
    minutes = int(window.to_minutes())
    return f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}m"


def class_filter_patterns(endpoints: Sequence[registry.Endpoint], *, server_errors: bool) -> list[str]:
    """Filter patterns over the REST API's JSON access log that together match the requests of `endpoints`.

    Each request has one method and one resource path, so the patterns match disjoint requests and
    their filters can feed one metric. `server_errors`: only the requests answered 5xx.
    """
    by_method: dict[str, list[str]] = {}
    for endpoint in sorted(endpoints, key=lambda endpoint: (endpoint.method, endpoint.path)):
        by_method.setdefault(endpoint.method, []).append(endpoint.path)
    prefix = '{ $.status = "5*" && (' if server_errors else "{ ("
    suffix = ") }"
    patterns: list[str] = []
    terms: list[str] = []

    def pattern(of: Sequence[str]) -> str:
        return prefix + " || ".join(of) + suffix

    for method, paths in by_method.items():
        for path in paths:
            term = f'($.httpMethod = "{method}" && $.resourcePath = "{path}")'
            if terms and len(pattern([*terms, term])) > FILTER_PATTERN_LIMIT:
                patterns.append(pattern(terms))
                terms = []
            terms.append(term)
    if terms:
        patterns.append(pattern(terms))
    return patterns


def api_server_error_alarm_name(alarm_name_prefix: str) -> str:
    """The REST API's 5xx-rate alarm (the canary deployments roll back on it too)."""
    return f"{alarm_name_prefix}api-5xx-rate"


def endpoint_class(endpoint: registry.Endpoint) -> str:
    """`payments` when the endpoint calls the payment gateway, else `reads` for GET and `writes` for the rest."""
    if registry.PAYMENTS in endpoint.uses:
        return PAYMENTS
    return READS if endpoint.method == "GET" else WRITES


def function_group(declaration: registry.Function) -> str:
    """An endpoint's class; every other function (schedules, consumers, authorizers, WebSocket) is `background`."""
    return endpoint_class(declaration) if isinstance(declaration, registry.Endpoint) else BACKGROUND


@dataclass(frozen=True)
class QuerySpec:
    """A saved question: its name under `dogwalk-<stage>/`, the query and which functions' logs it reads."""

    name: str
    query: str


# Lambda's JSON log format: Powertools' lines (level, message, function_name, correlation_id and
# the `extra` fields) and the platform's (type = platform.report, with record.metrics.durationMs)
ERRORS_BY_FUNCTION = QuerySpec(
    "errors-by-function",
    "fields @timestamp, @log, function_name, message, correlation_id\n"
    '| filter level in ["ERROR", "CRITICAL"] or (type = "platform.runtimeDone" and record.status != "success")\n'
    "| stats count(*) as errors by @log, function_name\n"
    "| sort errors desc",
)
SLOWEST_REQUESTS = QuerySpec(
    "slowest-requests",
    "fields @timestamp, @log, record.requestId, record.metrics.durationMs, record.metrics.initDurationMs\n"
    '| filter type = "platform.report"\n'
    "| sort record.metrics.durationMs desc\n"
    "| limit 50",
)
REQUEST_BY_ID = QuerySpec(
    "request-by-id",
    # the API Gateway request id: the X-Request-Id of every answer, the access log's requestId and
    # the functions' correlation_id; replace the placeholder with the id you were given
    "fields @timestamp, @log, level, message, status, code, correlation_id, requestId\n"
    '| filter correlation_id = "REQUEST_ID" or requestId = "REQUEST_ID"\n'
    "| sort @timestamp asc",
)
PAYMENT_FAILURES = QuerySpec(
    "payment-failures",
    "fields @timestamp, @log, correlation_id, code, status, event_type, outcome, booking_id, message\n"
    f'| filter code = "{PAYMENT_DECLINED}" or event_type like /payment_failed|canceled/ or outcome = "failed"\n'
    "| sort @timestamp desc",
)
INGEST_DROPS = QuerySpec(
    "ingest-drops-by-reason",
    "fields reason, dropped\n| filter ispresent(reason) and message like /dropped/\n"
    "| stats sum(dropped) as points, count(*) as lines by reason\n"
    "| sort points desc",
)
NOTIFICATIONS_BY_CHANNEL = QuerySpec(
    "notifications-sent-by-channel",
    'fields channel, event_type\n| filter message = "notification sent"\n'
    "| stats count(*) as sent by channel, event_type, bin(1h)\n"
    "| sort sent desc",
)


class Observability(NestedStack):
    """Dashboard, SLO alarms to the ops topic and saved queries of one region's platform."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        functions: Mapping[str, tuple[registry.Function, lambda_.Function]],
        api_name: str | None,
        queues: Mapping[str, sqs.IQueue],
        dead_letter_queues: Mapping[str, sqs.IQueue],
        topic: sns.ITopic,
        alarm_name_prefix: str,
        api_access_logs: logs.ILogGroup | None = None,
    ) -> None:
        super().__init__(scope, construct_id, description=f"dogwalk {stage}: dashboard and SLO alarms")
        self.stage = stage
        self.prefix = alarm_name_prefix
        self.action = actions.SnsAction(topic)
        self.functions = functions
        self.api_name = api_name
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        self.latency_alarms: dict[str, cloudwatch.Alarm] = {}
        # `<class>-error-budget-<fast|slow>`: the composite burn-rate alarms (and their window alarms)
        self.budget_alarms: dict[str, cloudwatch.CompositeAlarm] = {}
        self.window_alarms: dict[str, cloudwatch.Alarm] = {}
        region = Stack.of(self).region
        # dashboards are global to the account: the region is part of the name
        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=f"dogwalk-{stage}-{region}",
            default_interval=Duration.hours(3),
        )
        endpoints = {
            name: (declaration, function)
            for name, (declaration, function) in functions.items()
            if isinstance(declaration, registry.Endpoint)
        }
        if api_name is not None and endpoints:
            self._api(endpoints)
            if api_access_logs is not None:
                self._error_budgets(endpoints, api_access_logs)
        self._functions(endpoints)
        self._queues(queues, dead_letter_queues)
        self._database()
        self.dashboard.add_widgets(
            cloudwatch.AlarmStatusWidget(
                title="SLO alarms",
                alarms=[*self.alarms.values(), *self.budget_alarms.values(), *self.latency_alarms.values()],
                width=24,
            )
        )

    # --- alarms -------------------------------------------------------------------------------

    def _alarm(self, construct_id: str, name: str, description: str, **props: object) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            alarm_name=f"{self.prefix}{name}",
            alarm_description=description,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            **props,  # type: ignore[arg-type]
        )
        alarm.add_alarm_action(self.action)
        return alarm

    def _api_metric(self, metric_name: str, statistic: str, **dimensions: str) -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace="AWS/ApiGateway",
            metric_name=metric_name,
            dimensions_map={"ApiName": str(self.api_name), "Stage": self.stage, **dimensions},
            statistic=statistic,
            period=Duration.minutes(5),
        )

    def _api(self, endpoints: Mapping[str, tuple[registry.Function, lambda_.Function]]) -> None:
        requests = self._api_metric("Count", "Sum")
        # the average of 4XXError/5XXError is the share of requests that got one
        client_errors = self._api_metric("4XXError", "Average")
        server_errors = self._api_metric("5XXError", "Average")
        self.alarms["api-5xx-rate"] = self._alarm(
            "ApiServerErrorRate",
            api_server_error_alarm_name(""),
            f"More than {SERVER_ERROR_RATE_THRESHOLD:.0%} of the REST API's requests answered 5xx over 5 minutes",
            metric=server_errors,
            threshold=SERVER_ERROR_RATE_THRESHOLD,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(title="API requests", left=[requests], width=8),
            cloudwatch.GraphWidget(
                title="API 4xx and 5xx rate",
                left=[client_errors.with_(label="4xx"), server_errors.with_(label="5xx")],
                left_annotations=[
                    cloudwatch.HorizontalAnnotation(value=SERVER_ERROR_RATE_THRESHOLD, label="5xx alarm")
                ],
                width=8,
            ),
            cloudwatch.SingleValueWidget(
                title="API 5xx rate (last 5 minutes)", metrics=[server_errors], width=8, height=6
            ),
        )
        by_class: dict[str, list[cloudwatch.IMetric]] = {klass: [] for klass in ENDPOINT_CLASSES}
        for name, (declaration, _) in sorted(endpoints.items()):
            if not isinstance(declaration, registry.Endpoint):
                continue
            klass = endpoint_class(declaration)
            slo = LATENCY_SLO[klass]
            # the latency clients see (authorizer, integration and function): detailed stage metrics
            latency = self._api_metric("Latency", "p99", Method=declaration.method, Resource=declaration.path)
            # a label would make the alarm a metric-math one: the label is the dashboard's only
            by_class[klass].append(latency.with_(label=name))
            self.latency_alarms[name] = self._alarm(
                f"{pascal_case(name)}LatencyP99",
                f"{name}-latency-p99",
                f"p99 latency of {declaration.method} {declaration.path} ({klass}) above its SLO of "
                f"{int(slo.to_milliseconds())} ms in 2 of 3 five-minute periods",
                metric=latency,
                threshold=slo.to_milliseconds(),
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=3,
                datapoints_to_alarm=2,
            )
        self.dashboard.add_widgets(
            *(
                cloudwatch.GraphWidget(
                    title=f"p99 latency: {klass} (SLO {int(LATENCY_SLO[klass].to_milliseconds())} ms)",
                    left=metrics,
                    left_annotations=[
                        cloudwatch.HorizontalAnnotation(value=LATENCY_SLO[klass].to_milliseconds(), label="SLO")
                    ],
                    legend_position=cloudwatch.LegendPosition.RIGHT,
                    width=8,
                    height=8,
                )
                for klass, metrics in by_class.items()
                if metrics
            )
        )

    def _slo_metric(self, klass: str, what: str, period: Duration) -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace=SLO_NAMESPACE,
            metric_name=f"{self.stage}-{klass}-{what}",
            statistic="Sum",
            period=period,
        )

    def _error_ratio(self, klass: str, window: Duration, label: str) -> cloudwatch.MathExpression:
        """The class's share of requests answered 5xx over `window` (0 without requests)."""
        # ids unique per class: the dashboard's budget widget holds every class's
        requests, errors = f"requests_{klass}", f"errors_{klass}"
        return cloudwatch.MathExpression(
            expression=f"IF({requests} > 0, {errors} / {requests}, 0)",
            using_metrics={
                requests: self._slo_metric(klass, "requests", window),
                errors: self._slo_metric(klass, "server-errors", window),
            },
            period=window,
            label=label,
        )

    def _error_budgets(
        self, endpoints: Mapping[str, tuple[registry.Function, lambda_.Function]], access_logs: logs.ILogGroup
    ) -> None:
        """Per endpoint class: its requests and 5xx counted from the access log, and the burn-rate alarms.

        The API's own 5XXError/Count carry one endpoint each (Method, Resource), and a metric-math
        alarm reads at most 10 metrics: a class of 40 endpoints cannot be summed there. The access
        log's lines (method, resource path, status) are counted into one metric per class instead.
        """
        by_class: dict[str, list[registry.Endpoint]] = {}
        for declaration, _ in endpoints.values():
            if isinstance(declaration, registry.Endpoint):
                by_class.setdefault(endpoint_class(declaration), []).append(declaration)
        budget_left: list[cloudwatch.IMetric] = []
        for klass in ENDPOINT_CLASSES:
            members = by_class.get(klass)
            if not members:
                continue
            for what, server_errors in (("requests", False), ("server-errors", True)):
                for index, pattern in enumerate(class_filter_patterns(members, server_errors=server_errors), 1):
                    logs.MetricFilter(
                        self,
                        f"{pascal_case(f'{klass}-{what}')}Filter{index}",
                        log_group=access_logs,
                        filter_pattern=logs.FilterPattern.literal(pattern),
                        metric_namespace=SLO_NAMESPACE,
                        metric_name=f"{self.stage}-{klass}-{what}",
                        metric_value="1",
                        default_value=0,
                    )
            for rate in BURN_RATES:
                windows = []
                for window in (rate.long_window, rate.short_window):
                    label = window_label(window)
                    alarm = cloudwatch.Alarm(
                        self,
                        f"{pascal_case(klass)}ErrorRatio{label.upper()}{pascal_case(rate.name)}",
                        alarm_name=f"{self.prefix}{klass}-error-ratio-{label}-{rate.factor:g}x",
                        alarm_description=(
                            f"{klass}: more than {rate.threshold:.2%} of requests answered 5xx over {label} "
                            f"({rate.factor:g}x the {AVAILABILITY_SLO:.1%} SLO's budget); no action of its own, "
                            f"the {klass}-error-budget-{rate.name} composite alarm notifies"
                        ),
                        metric=self._error_ratio(klass, window, f"{klass} error ratio {label}"),
                        threshold=rate.threshold,
                        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                        evaluation_periods=1,
                        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                    )
                    self.window_alarms[f"{klass}-error-ratio-{label}-{rate.name}"] = alarm
                    windows.append(alarm)
                long, short = windows
                composite = cloudwatch.CompositeAlarm(
                    self,
                    f"{pascal_case(klass)}ErrorBudget{pascal_case(rate.name)}",
                    composite_alarm_name=f"{self.prefix}{klass}-error-budget-{rate.name}",
                    alarm_description=(
                        f"{klass} endpoints burn their {AVAILABILITY_SLO:.1%} availability budget at "
                        f"{rate.factor:g}x (5xx over {rate.threshold:.2%} of requests in the last "
                        f"{window_label(rate.long_window)} and the last {window_label(rate.short_window)})"
                    ),
                    alarm_rule=cloudwatch.AlarmRule.all_of(long, short),
                )
                composite.add_alarm_action(self.action)
                self.budget_alarms[f"{klass}-error-budget-{rate.name}"] = composite
            budget_left.append(
                cloudwatch.MathExpression(
                    expression=f"100 * (1 - ratio_{klass} / {ERROR_BUDGET})",
                    using_metrics={f"ratio_{klass}": self._error_ratio(klass, BUDGET_PERIOD, f"{klass} error ratio")},
                    period=BUDGET_PERIOD,
                    label=f"{klass} (%)",
                )
            )
        if budget_left:
            self.dashboard.add_widgets(
                cloudwatch.SingleValueWidget(
                    title=f"Error budget left, last 30 days (SLO {AVAILABILITY_SLO:.1%})",
                    metrics=budget_left,
                    start="-P30D",
                    set_period_to_time_range=True,
                    width=24,
                    height=4,
                )
            )

    def _functions(self, endpoints: Mapping[str, tuple[registry.Function, lambda_.Function]]) -> None:
        everything = sorted(self.functions.items())

        def per_function(
            metric: str, statistic: str, which: Sequence[tuple[str, tuple[registry.Function, lambda_.Function]]]
        ) -> list[cloudwatch.IMetric]:
            return [
                function.metric(metric, statistic=statistic, period=Duration.minutes(5), label=name)
                for name, (_, function) in which
            ]

        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Lambda p99 duration per endpoint function",
                left=per_function("Duration", "p99", sorted(endpoints.items())),
                legend_position=cloudwatch.LegendPosition.RIGHT,
                width=24,
                height=8,
            ),
            cloudwatch.GraphWidget(
                title="Lambda errors",
                left=per_function("Errors", "Sum", everything),
                legend_position=cloudwatch.LegendPosition.RIGHT,
                width=12,
                height=8,
            ),
            cloudwatch.GraphWidget(
                title="Lambda throttles",
                left=per_function("Throttles", "Sum", everything),
                legend_position=cloudwatch.LegendPosition.RIGHT,
                width=12,
                height=8,
            ),
        )

    def _queues(self, queues: Mapping[str, sqs.IQueue], dead_letter_queues: Mapping[str, sqs.IQueue]) -> None:
        widgets: list[cloudwatch.IWidget] = []
        if dead_letter_queues:
            widgets.append(
                cloudwatch.GraphWidget(
                    title="Dead-letter queue depths",
                    left=[
                        queue.metric_approximate_number_of_messages_visible(
                            statistic=cloudwatch.Stats.MAXIMUM, period=Duration.minutes(1), label=name
                        )
                        for name, queue in sorted(dead_letter_queues.items())
                    ],
                    width=12,
                )
            )
        walk_messages = queues.get(registry.WALK_MESSAGES_QUEUE)
        if walk_messages is not None:
            age = walk_messages.metric_approximate_age_of_oldest_message(
                statistic=cloudwatch.Stats.MAXIMUM, period=Duration.minutes(1)
            )
            self.alarms["ingest-age"] = self._alarm(
                "IngestAge",
                f"{registry.WALK_MESSAGES_QUEUE}-oldest-message-age",
                f"Walk messages wait more than {int(INGEST_AGE_THRESHOLD.to_seconds())} s to be ingested "
                "(3 minutes in a row): the live view and the routes lag",
                metric=age,
                threshold=INGEST_AGE_THRESHOLD.to_seconds(),
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=3,
            )
            widgets.append(
                cloudwatch.GraphWidget(
                    title=f"Ingest lag: {registry.WALK_MESSAGES_QUEUE} oldest message age",
                    left=[age.with_(label="oldest message age (s)")],
                    left_annotations=[
                        cloudwatch.HorizontalAnnotation(value=INGEST_AGE_THRESHOLD.to_seconds(), label="alarm")
                    ],
                    width=12,
                )
            )
        if widgets:
            self.dashboard.add_widgets(*widgets)

    def _database(self) -> None:
        """Aurora's and RDS Proxy's connections, when the stack has them (wherever in its tree)."""
        metrics: list[cloudwatch.IMetric] = []
        for construct in Stack.of(self.node.scope).node.find_all():  # type: ignore[arg-type]
            if isinstance(construct, rds.CfnDBCluster):
                identifier = construct.db_cluster_identifier
                dimension = identifier if identifier and not Token.is_unresolved(identifier) else construct.ref
                metrics.append(
                    cloudwatch.Metric(
                        namespace="AWS/RDS",
                        metric_name="DatabaseConnections",
                        dimensions_map={"DBClusterIdentifier": dimension},
                        statistic="Maximum",
                        period=Duration.minutes(1),
                        label="Aurora connections",
                    )
                )
            elif isinstance(construct, rds.CfnDBProxy):
                name = construct.db_proxy_name
                dimension = name if not Token.is_unresolved(name) else construct.ref
                for metric_name, label in (
                    ("ClientConnections", "proxy client connections"),
                    ("DatabaseConnections", "proxy database connections"),
                ):
                    metrics.append(
                        cloudwatch.Metric(
                            namespace="AWS/RDS",
                            metric_name=metric_name,
                            dimensions_map={"ProxyName": dimension},
                            statistic="Maximum",
                            period=Duration.minutes(1),
                            label=label,
                        )
                    )
        if metrics:
            self.dashboard.add_widgets(cloudwatch.GraphWidget(title="Database connections", left=metrics, width=24))


class SavedQueries(NestedStack):
    """The saved Logs Insights queries of one region's platform, by function group (`dogwalk-<stage>/…`)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        functions: Mapping[str, tuple[registry.Function, lambda_.Function]],
        api_access_logs: logs.ILogGroup | None,
    ) -> None:
        super().__init__(scope, construct_id, description=f"dogwalk {stage}: saved Logs Insights queries")
        self.stage = stage
        self.functions = functions
        self.queries: dict[str, logs.CfnQueryDefinition] = {}
        self._queries(api_access_logs)

    # --- saved queries ------------------------------------------------------------------------

    def _log_groups(self, which: Sequence[str]) -> list[logs.ILogGroup]:
        groups = []
        for name in sorted(which):
            log_group = self.functions[name][1].log_group
            groups.append(log_group)
        return groups

    def _query(self, spec: QuerySpec, suffix: str, log_groups: Sequence[logs.ILogGroup]) -> None:
        """One saved query per 50 log groups: `<name>/<suffix>`, then `<name>/<suffix>-2`, `-3`…"""
        for index, start in enumerate(range(0, len(log_groups), QUERY_LOG_GROUP_LIMIT), start=1):
            part = suffix if index == 1 else f"{suffix}-{index}"
            name = f"dogwalk-{self.stage}/{spec.name}/{part}"
            # the L1: the L2's QueryString assembles a query from parts, these are written whole
            self.queries[name] = logs.CfnQueryDefinition(
                self,
                pascal_case(f"{spec.name}-{part}") + "Query",
                name=name,
                query_string=spec.query,
                log_group_names=[
                    log_group.log_group_name for log_group in log_groups[start : start + QUERY_LOG_GROUP_LIMIT]
                ],
            )

    def _queries(self, api_access_logs: logs.ILogGroup | None) -> None:
        groups: dict[str, list[str]] = {}
        for name, (declaration, _) in self.functions.items():
            groups.setdefault(function_group(declaration), []).append(name)
        for group, names in sorted(groups.items()):
            self._query(ERRORS_BY_FUNCTION, group, self._log_groups(names))
            if group != BACKGROUND:
                self._query(SLOWEST_REQUESTS, group, self._log_groups(names))
                access = [api_access_logs] if api_access_logs is not None else []
                self._query(REQUEST_BY_ID, group, [*access, *self._log_groups(names)])
        payers = [name for name, (declaration, _) in self.functions.items() if registry.PAYMENTS in declaration.uses]
        self._query(PAYMENT_FAILURES, "all", self._log_groups(payers))
        ingest = [
            name
            for name, (declaration, _) in self.functions.items()
            if isinstance(declaration, registry.QueueConsumer) and declaration.queue == registry.WALK_MESSAGES_QUEUE
        ]
        self._query(INGEST_DROPS, "all", self._log_groups(ingest))
        # the channels' consumers (fed by the events topic) and whatever sends notifications itself
        notifiers = [
            name
            for name, (declaration, _) in self.functions.items()
            if registry.NOTIFY in declaration.uses
            or (isinstance(declaration, registry.QueueConsumer) and bool(declaration.events))
        ]
        self._query(NOTIFICATIONS_BY_CHANNEL, "all", self._log_groups(notifiers))
