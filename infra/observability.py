"""The region's dashboard, its SLO alarms and the saved Logs Insights queries (a nested stack).

The regional stack is close to CloudFormation's 500 resources, so everything here lives in a
nested stack of its own: CDK passes the parent's function names, log groups, queues and the ops
topic in as parameters. The API's metrics are addressed by name (`ApiName`, `Stage`, `Method`,
`Resource` — the stage has detailed metrics on), so nothing here depends on the API's deployment.

Endpoint classes and their SLOs (the README's "SLOs and observability" table is the same):
payments (an endpoint that calls the payment gateway) p99 ≤ 2 s, other reads (GET) ≤ 300 ms,
other writes ≤ 800 ms; availability 99.9 % per class; ingest freshness: the oldest walk message
waits ≤ 60 s.
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
# Logs Insights runs a query over at most 50 log groups: the saved queries go by function group
QUERY_LOG_GROUP_LIMIT = 50
PAYMENT_DECLINED = "payment_declined"


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
        api_access_logs: logs.ILogGroup | None,
        queues: Mapping[str, sqs.IQueue],
        dead_letter_queues: Mapping[str, sqs.IQueue],
        topic: sns.ITopic,
        alarm_name_prefix: str,
    ) -> None:
        super().__init__(
            scope, construct_id, description=f"dogwalk {stage}: dashboard, SLO alarms, Logs Insights queries"
        )
        self.stage = stage
        self.prefix = alarm_name_prefix
        self.action = actions.SnsAction(topic)
        self.functions = functions
        self.api_name = api_name
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        self.latency_alarms: dict[str, cloudwatch.Alarm] = {}
        self.queries: dict[str, logs.CfnQueryDefinition] = {}
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
        self._functions(endpoints)
        self._queues(queues, dead_letter_queues)
        self._database()
        self._queries(api_access_logs)
        self.dashboard.add_widgets(
            cloudwatch.AlarmStatusWidget(
                title="SLO alarms", alarms=list(self.alarms.values()) + list(self.latency_alarms.values()), width=24
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

    # --- saved queries ------------------------------------------------------------------------

    def _log_groups(self, which: Sequence[str]) -> list[logs.ILogGroup]:
        groups = []
        for name in sorted(which):
            log_group = self.functions[name][1].log_group
            groups.append(log_group)
        return groups

    def _query(self, spec: QuerySpec, suffix: str, log_groups: Sequence[logs.ILogGroup]) -> None:
        if not log_groups:
            return
        if len(log_groups) > QUERY_LOG_GROUP_LIMIT:
            raise ValueError(
                f"{spec.name}/{suffix}: {len(log_groups)} log groups, Logs Insights takes {QUERY_LOG_GROUP_LIMIT}"
            )
        name = f"dogwalk-{self.stage}/{spec.name}/{suffix}"
        # the L1: the L2's QueryString assembles a query from parts, these are written whole
        self.queries[name] = logs.CfnQueryDefinition(
            self,
            pascal_case(f"{spec.name}-{suffix}") + "Query",
            name=name,
            query_string=spec.query,
            log_group_names=[log_group.log_group_name for log_group in log_groups],
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
