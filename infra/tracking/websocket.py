"""The live view's WebSocket API: one route per registry `WebSocketRoute`, and who may push to its clients."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence, Set
from typing import cast

import jsii
from aws_cdk import ArnFormat, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_apigatewayv2 as apigatewayv2
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from dogwalk import registry
from infra.compliance import acknowledge, finding_text
from infra.deployment import Deployment
from infra.functions import pascal_case, role_of

# The API's only stage. API.md promises `/v1/ws?token=<access token>`: the custom domains
# (infra/edge.py) map `v1/ws` to this stage, so apps use wss://ws.<domain>/v1/ws; the execute-api
# URL, wss://{api}.execute-api.{region}.amazonaws.com/v1, stays the stack's `WebSocketUrl` output.
STAGE_NAME = "v1"
# `{"action": "subscribe", "walk_id": ...}` goes to the route named `subscribe`
ROUTE_SELECTION_EXPRESSION = "$request.body.action"
# the connection-management API's methods: push a message, read a connection, close it
MANAGEMENT_METHODS = ("POST", "GET", "DELETE")
# WebSocket access logs: one JSON line per connect, message and disconnect
ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "requestTime": "$context.requestTime",
    "eventType": "$context.eventType",
    "routeKey": "$context.routeKey",
    "connectionId": "$context.connectionId",
    "status": "$context.status",
    "ip": "$context.identity.sourceIp",
    "integrationLatency": "$context.integrationLatency",
    "error": "$context.error.message",
    "integrationError": "$context.integrationErrorMessage",
}


class LiveUpdates(Construct):
    """The WebSocket API, its `v1` stage, and the push grant for functions that declare `WEBSOCKET_PUSH`.

    Built before the functions, because a function that pushes needs the management URL in its
    environment; the routes are added once their functions exist (`add_routes`).
    """

    def __init__(self, scope: Construct, construct_id: str, *, deployment: Deployment, log_key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        self.api = apigatewayv2.WebSocketApi(
            self,
            "Api",
            api_name=f"dogwalk-{deployment.stage}-live",
            description="DogWalk live view: walk positions and events pushed to watching apps",
            route_selection_expression=ROUTE_SELECTION_EXPRESSION,
        )
        self.access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=deployment.log_retention,
            encryption_key=log_key,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.stage = apigatewayv2.WebSocketStage(
            self,
            "Stage",
            web_socket_api=self.api,
            stage_name=STAGE_NAME,
            auto_deploy=True,
            detailed_metrics_enabled=True,
            # the REST API's limits: a client sends one message per walk it watches, the rest is pushed
            throttle=apigatewayv2.ThrottleSettings(
                rate_limit=deployment.api_throttle_rate_limit,
                burst_limit=deployment.api_throttle_burst_limit,
            ),
            access_log_settings=AccessLogSettings(
                apigatewayv2.LogGroupLogDestination(self.access_logs),
                apigateway.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FIELDS)),
            ),
        )
        # execution logs for errors only, as on the REST API's stage
        cfn_stage = cast(apigatewayv2.CfnStage, self.stage.node.default_child)
        cfn_stage.add_property_override("DefaultRouteSettings.LoggingLevel", "ERROR")
        cfn_stage.add_property_override("DefaultRouteSettings.DataTraceEnabled", False)
        # https://{api}.execute-api.{region}.amazonaws.com/v1: where pushes are POSTed (`dogwalk.tracking.live`)
        self.management_url = self.stage.callback_url
        # wss://{api}.execute-api.{region}.amazonaws.com/v1 (the stack's `WebSocketUrl` output)
        self.url = self.stage.url

    @staticmethod
    def used_by(uses: Set[str]) -> bool:
        return registry.WEBSOCKET_PUSH in uses

    def management_arns(self) -> list[str]:
        """Every connection of the stage, for each management method (connection ids exist only at run time)."""
        stack = Stack.of(self)
        return [
            stack.format_arn(
                service="execute-api",
                resource=self.api.api_id,
                resource_name=f"{STAGE_NAME}/{method}/@connections/*",
                arn_format=ArnFormat.SLASH_RESOURCE_NAME,
            )
            for method in MANAGEMENT_METHODS
        ]

    def grant(self, function: lambda_.Function, uses: Set[str]) -> None:
        """`execute-api:ManageConnections` on this stage's connections, for the functions that push."""
        if not self.used_by(uses):
            return
        arns = self.management_arns()
        function.add_to_role_policy(iam.PolicyStatement(actions=["execute-api:ManageConnections"], resources=arns))
        for arn in arns:
            acknowledge(
                role_of(function),
                f"IAM5[Resource::{finding_text(self, arn, role_of(function))}]",
                "connection ids are made by API Gateway at run time; the grant is limited to this API's stage",
            )

    def add_routes(self, routes: Sequence[registry.WebSocketRoute], functions: Mapping[str, lambda_.IFunction]) -> None:
        """One route per declaration, proxied to its own function (which may answer 401 on `$connect`)."""
        keys = [route.route_key for route in routes]
        if len(set(keys)) != len(keys):
            raise ValueError(f"two WebSocket routes share a route key: {sorted(keys)}")
        for route in routes:
            construct_id = pascal_case(route.name)
            websocket_route = self.api.add_route(
                route.route_key,
                integration=integrations.WebSocketLambdaIntegration(
                    f"{construct_id}Integration", functions[route.name]
                ),
            )
            acknowledge(
                websocket_route,
                "APIG4",
                "ws_connect verifies the access token in ?token= and refuses the connection without a valid one"
                if route.route_key == "$connect"
                else "WebSocket APIs authorize on $connect only; this route runs on connections ws_connect accepted",
            )


@jsii.implements(apigatewayv2.IAccessLogSettings)
class AccessLogSettings:
    """Where the stage writes its access logs, and in which format (a jsii interface, not a struct)."""

    def __init__(self, destination: apigatewayv2.IAccessLogDestination, log_format: apigateway.AccessLogFormat) -> None:
        self._destination = destination
        self._format = log_format

    @property
    def destination(self) -> apigatewayv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigateway.AccessLogFormat:
        return self._format
