"""The REST API: one resource and method per registry endpoint, each proxied to its own Lambda."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from dogwalk import registry
from dogwalk.edge.api import problem_body
from infra.compliance import acknowledge
from infra.deployment import Deployment
from infra.functions import pascal_case

AUTHORIZER_CACHE_TTL = Duration.seconds(300)

# Errors API Gateway answers by itself, rewritten as the RFC 9457 problems the contract promises:
# (response type, status the client gets, problem code).
GATEWAY_PROBLEMS: tuple[tuple[apigateway.ResponseType, int, str], ...] = (
    (apigateway.ResponseType.UNAUTHORIZED, 401, "unauthorized"),
    (apigateway.ResponseType.ACCESS_DENIED, 403, "forbidden"),
    # REST APIs answer an unknown path with 403 "Missing Authentication Token"
    (apigateway.ResponseType.MISSING_AUTHENTICATION_TOKEN, 404, "not_found"),
    (apigateway.ResponseType.REQUEST_TOO_LARGE, 413, "payload_too_large"),
    (apigateway.ResponseType.THROTTLED, 429, "rate_limited"),
    (apigateway.ResponseType.AUTHORIZER_FAILURE, 500, "internal_error"),
    (apigateway.ResponseType.INTEGRATION_FAILURE, 504, "gateway_timeout"),
    (apigateway.ResponseType.INTEGRATION_TIMEOUT, 504, "gateway_timeout"),
)
_DETAIL = "__detail__"


def problem_template(status: int, code: str) -> str:
    """The handlers' problem document as a gateway response template (`$context` is substituted)."""
    body = problem_body(status, code, detail=_DETAIL, request_id="$context.requestId")
    # messageString is the message already quoted and escaped as a JSON string
    return json.dumps(body).replace(f'"{_DETAIL}"', "$context.error.messageString")


class Api(Construct):
    """A regional REST API whose stage is named after the deployment stage (paths carry `/v1`)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        deployment: Deployment,
        endpoints: Sequence[registry.Endpoint],
        functions: Mapping[str, lambda_.IFunction],
        authorizer: lambda_.IFunction | None,
        log_key: kms.IKey,
    ) -> None:
        super().__init__(scope, construct_id)
        self.access_logs = access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=deployment.log_retention,
            encryption_key=log_key,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.rest_api = apigateway.RestApi(
            self,
            "RestApi",
            rest_api_name=f"dogwalk-{deployment.stage}",
            description="DogWalk marketplace API",
            endpoint_configuration=apigateway.EndpointConfiguration(types=[apigateway.EndpointType.REGIONAL]),
            # access logging needs the account's API Gateway CloudWatch role in this region
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN,
            deploy_options=apigateway.StageOptions(
                stage_name=deployment.stage,
                tracing_enabled=True,
                metrics_enabled=True,
                logging_level=apigateway.MethodLoggingLevel.ERROR,
                throttling_rate_limit=deployment.api_throttle_rate_limit,
                throttling_burst_limit=deployment.api_throttle_burst_limit,
                access_log_destination=apigateway.LogGroupLogDestination(access_logs),
                access_log_format=apigateway.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=False,
                ),
            ),
        )
        acknowledge(
            self.rest_api,
            "APIG2",
            "each function validates its request with pydantic and answers RFC 9457 problems, "
            "which API Gateway's validators cannot produce",
        )
        acknowledge(
            self.rest_api,
            "IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
            "the account-level role API Gateway needs for access logs; AWS's policy is the documented one",
        )
        acknowledge(
            self.rest_api,
            "APIG3",
            "the web ACL and its association with this stage are in the regional stack's Edge nested stack "
            "(infra/edge.py), out of this check's sight; stacks without a domain (tests) have no edge",
        )
        self.token_authorizer = (
            apigateway.TokenAuthorizer(
                self,
                "TokenAuthorizer",
                handler=authorizer,
                identity_source=apigateway.IdentitySource.header("Authorization"),
                results_cache_ttl=AUTHORIZER_CACHE_TTL,
            )
            if authorizer is not None
            else None
        )
        for endpoint in endpoints:
            self._add_route(endpoint, functions[endpoint.name])
        for response_type, status, code in GATEWAY_PROBLEMS:
            headers = {"Content-Type": "'application/problem+json'"}
            if status == 429:
                headers["Retry-After"] = "'1'"
            self.rest_api.add_gateway_response(
                f"{pascal_case(response_type.response_type.lower())}Problem",
                type=response_type,
                status_code=str(status),
                response_headers=headers,
                templates={"application/json": problem_template(status, code)},
            )

    def _add_route(self, endpoint: registry.Endpoint, function: lambda_.IFunction) -> None:
        resource = self.rest_api.root.resource_for_path(endpoint.path)
        # the per-method permission is enough; test invocations from the console are not needed
        integration = apigateway.LambdaIntegration(function, proxy=True, allow_test_invoke=False)
        if endpoint.public:
            method = resource.add_method(
                endpoint.method,
                integration,
                operation_name=endpoint.name,
                authorization_type=apigateway.AuthorizationType.NONE,
            )
            acknowledge(method, "APIG4", f"{endpoint.method} {endpoint.path} is public by the API contract")
            acknowledge(method, "COG4", "public endpoint; callers are anonymous by design")
            return
        if self.token_authorizer is None:
            raise ValueError(f"{endpoint.name} requires roles {sorted(endpoint.roles)} but no authorizer was given")
        method = resource.add_method(
            endpoint.method,
            integration,
            operation_name=endpoint.name,
            authorizer=self.token_authorizer,
            authorization_type=apigateway.AuthorizationType.CUSTOM,
        )
        acknowledge(method, "COG4", "users are the platform's own (ES256 JWTs checked by the token authorizer)")
