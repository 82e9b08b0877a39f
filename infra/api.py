"""The REST API: one resource and method per registry endpoint, each proxied to its own Lambda.

Two parts, as CDK's "Breaking up Methods and Resources across Stacks" describes: the regional stack
keeps the API itself (`Api`: the RestApi, the account's CloudWatch role, the stage and its
deployment, the gateway responses, the access logs: their logical ids must not change), and a
nested stack (`ApiRoutes`) holds what grows with the registry — every resource, method and
invoke permission, and the token authorizer — on the API imported by id
(`RestApi.from_rest_api_attributes`). About three resources per endpoint would not fit the
regional stack's 500 beside the functions.

The stage's deployment is the parent's: it depends on the routes' nested stack, so CloudFormation
creates it only once the routes exist, and its logical id includes a fingerprint of the routes'
definitions, so any changed route makes a new deployment (CDK does this by itself only for methods
of the RestApi's own stack).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence

import jsii
from aws_cdk import CfnResource, Duration, IStableStringProducer, Lazy, NestedStack, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from dogwalk import registry
from dogwalk.edge.api import NO_STORE, SECURITY_HEADERS, problem_body
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
# Every other error API Gateway answers by itself (bad request body, WAF refusals, configuration
# errors, ...): its own status is kept, so the problem omits `status` (RFC 9457 makes it optional).
DEFAULT_PROBLEMS: tuple[tuple[apigateway.ResponseType, str, str], ...] = (
    (apigateway.ResponseType.DEFAULT_4_XX, "request_refused", "Request refused"),
    (apigateway.ResponseType.DEFAULT_5_XX, "gateway_error", "Gateway error"),
)
_DETAIL = "__detail__"


def problem_template(status: int | None, code: str, title: str | None = None) -> str:
    """The handlers' problem document as a gateway response template (`$context` is substituted);
    without `status` for the defaults, whose status is the one of the error they stand for."""
    body = problem_body(status or 400, code, detail=_DETAIL, request_id="$context.requestId", title=title)
    if status is None:
        del body["status"]
    # messageString is the message already quoted and escaped as a JSON string
    return json.dumps(body).replace(f'"{_DETAIL}"', "$context.error.messageString")


def gateway_headers(**extra: str) -> dict[str, str]:
    """A gateway response's headers (values quoted, as API Gateway wants them): problem+json and the
    security headers the functions' answers carry too (`dogwalk.edge.api`)."""
    headers = {"Content-Type": "application/problem+json", **SECURITY_HEADERS, **NO_STORE, **extra}
    return {name: f"'{value}'" for name, value in headers.items()}


# what the API answers at its root, where no endpoint is: the same 404 problem as an unknown path
ROOT_NOT_FOUND_DETAIL = "No such resource."
# the routes' resource types whose definitions go into the deployment's logical id
ROUTE_TYPES = frozenset({"AWS::ApiGateway::Resource", "AWS::ApiGateway::Method", "AWS::ApiGateway::Authorizer"})
APIGATEWAY = iam.ServicePrincipal("apigateway.amazonaws.com")


def path_for_arn(path: str) -> str:
    """An endpoint's path as execute-api ARNs write it: `/v1/dogs/{dog_id}` → `/v1/dogs/*` (as CDK's methodArn)."""
    return re.sub(r"\{[^}]*\}", "*", path)


class Api(Construct):
    """A regional REST API whose stage is named after the deployment stage (paths carry `/v1`).

    Its routes are added by `ApiRoutes`, a nested stack; here only the root answers, with a 404.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        deployment: Deployment,
        log_key: kms.IKey,
    ) -> None:
        super().__init__(scope, construct_id)
        self.stage_name = deployment.stage
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
        self._root_not_found()
        for response_type, status, code in GATEWAY_PROBLEMS:
            self.rest_api.add_gateway_response(
                f"{pascal_case(response_type.response_type.lower())}Problem",
                type=response_type,
                status_code=str(status),
                response_headers=gateway_headers(**({"Retry-After": "1"} if status == 429 else {})),
                templates={"application/json": problem_template(status, code)},
            )
        for response_type, code, title in DEFAULT_PROBLEMS:
            self.rest_api.add_gateway_response(
                f"{pascal_case(response_type.response_type.lower())}Problem",
                type=response_type,
                response_headers=gateway_headers(),
                templates={"application/json": problem_template(None, code, title)},
            )

    @property
    def latest_deployment(self) -> apigateway.Deployment:
        deployment = self.rest_api.latest_deployment
        if deployment is None:
            raise ValueError("the RestApi deploys its stage itself (deploy=True)")
        return deployment

    def _root_not_found(self) -> None:
        """`ANY /` answers 404 as an unknown path does (a mock: no function).

        CDK refuses to synthesize a RestApi without a method of its own (API Gateway cannot deploy an
        API without methods); the routes are on the API imported in the nested stack, so the root
        holds the one method the parent has, as in CDK's example of routes across stacks.
        """
        # the headers of the gateway's own 404 (problem+json and the security headers)
        headers = {f"method.response.header.{name}": value for name, value in gateway_headers().items()}
        body = problem_body(404, "not_found", detail=ROOT_NOT_FOUND_DETAIL, request_id="$context.requestId")
        method = self.rest_api.root.add_method(
            "ANY",
            apigateway.MockIntegration(
                request_templates={"application/json": json.dumps({"statusCode": 404})},
                integration_responses=[
                    apigateway.IntegrationResponse(
                        # no selection pattern: whatever the mock answers
                        status_code="404",
                        response_parameters=headers,
                        response_templates={"application/json": json.dumps(body)},
                    )
                ],
            ),
            operation_name="root_not_found",
            authorization_type=apigateway.AuthorizationType.NONE,
            method_responses=[
                apigateway.MethodResponse(status_code="404", response_parameters=dict.fromkeys(headers, True))
            ],
        )
        acknowledge(method, "APIG4", "the API's root answers 404 to anyone, as an unknown path does; no function")
        acknowledge(method, "COG4", "the API's root answers 404 to anyone, as an unknown path does; no function")


@jsii.implements(IStableStringProducer)
class _RoutesFingerprint:
    """A digest of the resolved definitions of every resource, method and authorizer of the routes' stack."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack

    def produce(self) -> str:
        definitions = {
            self.stack.resolve(self.stack.get_logical_id(resource)): [
                resource.cfn_resource_type,
                self.stack.resolve(resource._cfn_properties),
            ]
            for resource in self.stack.node.find_all()
            if isinstance(resource, CfnResource) and resource.cfn_resource_type in ROUTE_TYPES
        }
        text = json.dumps(definitions, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()


class ApiRoutes(NestedStack):
    """The REST API's resources, methods and invoke permissions, and the token authorizer: a nested stack."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        api: Api,
        endpoints: Sequence[registry.Endpoint],
        functions: Mapping[str, lambda_.IFunction],
        authorizer: lambda_.IFunction | None,
    ) -> None:
        super().__init__(
            scope, construct_id, description=f"dogwalk {api.stage_name}: the REST API's routes and token authorizer"
        )
        self.stage_name = api.stage_name
        # the regional stack's API, by id (two parameters of this stack)
        self.rest_api = apigateway.RestApi.from_rest_api_attributes(
            self,
            "RestApi",
            rest_api_id=api.rest_api.rest_api_id,
            root_resource_id=api.rest_api.rest_api_root_resource_id,
        )
        # imported here, so that the authorizer's invoke permission is in this stack as the authorizer is
        handler = (
            lambda_.Function.from_function_attributes(
                self, "AuthorizerFunction", function_arn=authorizer.function_arn, same_environment=True
            )
            if authorizer is not None
            else None
        )
        self.token_authorizer = (
            apigateway.TokenAuthorizer(
                self,
                "TokenAuthorizer",
                handler=handler,
                identity_source=apigateway.IdentitySource.header("Authorization"),
                results_cache_ttl=AUTHORIZER_CACHE_TTL,
            )
            if handler is not None
            else None
        )
        self.methods: dict[str, apigateway.Method] = {}
        for endpoint in endpoints:
            self.methods[endpoint.name] = self._add_route(endpoint, functions[endpoint.name])
        # the stage's deployment (regional stack) is made after the routes, and again whenever one changes
        deployment = api.latest_deployment
        deployment.node.add_dependency(self)
        deployment.add_to_logical_id({"routes": Lazy.string(_RoutesFingerprint(self))})

    def _add_route(self, endpoint: registry.Endpoint, function: lambda_.IFunction) -> apigateway.Method:
        resource = self.rest_api.root.resource_for_path(endpoint.path)
        # what LambdaIntegration makes; its own permission would name any stage (this API has no stage here)
        integration = apigateway.AwsIntegration(
            proxy=True, service="lambda", path=f"2015-03-31/functions/{function.function_arn}/invocations"
        )
        if endpoint.public:
            method = resource.add_method(
                endpoint.method,
                integration,
                operation_name=endpoint.name,
                authorization_type=apigateway.AuthorizationType.NONE,
            )
            acknowledge(method, "APIG4", f"{endpoint.method} {endpoint.path} is public by the API contract")
            acknowledge(method, "COG4", "public endpoint; callers are anonymous by design")
        else:
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
        # this method of this stage only (the stage's name, not a reference: the stage waits for these routes)
        function.add_permission(
            "ApiPermission",
            principal=APIGATEWAY,
            scope=method,
            source_arn=self.rest_api.arn_for_execute_api(endpoint.method, path_for_arn(endpoint.path), self.stage_name),
        )
        return method
