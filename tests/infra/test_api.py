"""The REST API serves every registry endpoint at its method and path, protected as declared."""

from __future__ import annotations

import json

import pytest
from nested_stacks import nested
from stack_template import StackTemplate, Synthesized, referenced_ids

from dogwalk import registry
from infra.deployment import Deployment

pytestmark = pytest.mark.infra

PROTECTED = [endpoint for endpoint in registry.ENDPOINTS if not endpoint.public]
PUBLIC = [endpoint for endpoint in registry.ENDPOINTS if endpoint.public]


def test_every_endpoint_has_its_method_and_path(regional: list[StackTemplate]) -> None:
    for template in regional:
        assert set(template.api_methods()) == {(endpoint.method, endpoint.path) for endpoint in registry.ENDPOINTS}


def test_each_method_proxies_to_its_own_function(primary: StackTemplate, synthesized: Synthesized) -> None:
    # through the function's `live` alias, in the canary nested stack (test_deployments.py)
    canary = nested(synthesized, synthesized.primary, "Canary")
    functions = primary.python_functions()
    methods = primary.api_methods()
    for endpoint in registry.ENDPOINTS:
        integration = methods[(endpoint.method, endpoint.path)]["Integration"]
        assert integration["Type"] == "AWS_PROXY"
        assert integration["IntegrationHttpMethod"] == "POST"
        [alias] = canary.output_target(integration["Uri"])
        targets = canary.parameter_source(canary.template.properties(alias)["FunctionName"])
        assert targets == {functions[endpoint.name]}


def test_protected_endpoints_use_the_token_authorizer(primary: StackTemplate) -> None:
    authorizer_id, _ = primary.only("AWS::ApiGateway::Authorizer")
    methods = primary.api_methods()
    for endpoint in PROTECTED:
        method = methods[(endpoint.method, endpoint.path)]
        assert method["AuthorizationType"] == "CUSTOM"
        assert method["AuthorizerId"] == {"Ref": authorizer_id}


def test_public_endpoints_use_no_authorizer(primary: StackTemplate) -> None:
    assert PUBLIC, "the registry has public endpoints (health, JWKS)"
    methods = primary.api_methods()
    for endpoint in PUBLIC:
        method = methods[(endpoint.method, endpoint.path)]
        assert method["AuthorizationType"] == "NONE"
        assert "AuthorizerId" not in method


def test_token_authorizer_reads_the_authorization_header_and_caches_five_minutes(primary: StackTemplate) -> None:
    _, authorizer = primary.only("AWS::ApiGateway::Authorizer")
    properties = authorizer["Properties"]
    assert properties["Type"] == "TOKEN"
    assert properties["IdentitySource"] == "method.request.header.Authorization"
    assert properties["AuthorizerResultTtlInSeconds"] == 300
    targets = referenced_ids(properties["AuthorizerUri"])
    assert primary.python_functions()[registry.AUTHORIZER.name] in targets


def test_api_gateway_may_invoke_the_authorizer(primary: StackTemplate) -> None:
    authorizer_function = primary.python_functions()[registry.AUTHORIZER.name]
    permissions = [
        permission["Properties"]
        for permission in primary.of_type("AWS::Lambda::Permission").values()
        if referenced_ids(permission["Properties"]["FunctionName"]) == {authorizer_function}
    ]
    assert [permission["Principal"] for permission in permissions] == ["apigateway.amazonaws.com"]


def test_stage_is_named_after_the_deployment_stage_with_tracing_logs_and_throttling(
    regional: list[StackTemplate], synthesized_deployment: Deployment
) -> None:
    for template in regional:
        _, stage = template.only("AWS::ApiGateway::Stage")
        properties = stage["Properties"]
        assert properties["StageName"] == synthesized_deployment.stage
        assert properties["TracingEnabled"] is True
        assert referenced_ids(properties["AccessLogSetting"]["DestinationArn"]) & set(
            template.of_type("AWS::Logs::LogGroup")
        )
        [settings] = properties["MethodSettings"]
        assert settings["ThrottlingRateLimit"] == synthesized_deployment.api_throttle_rate_limit
        assert settings["ThrottlingBurstLimit"] == synthesized_deployment.api_throttle_burst_limit


def test_api_is_regional(primary: StackTemplate) -> None:
    _, api = primary.only("AWS::ApiGateway::RestApi")
    assert api["Properties"]["EndpointConfiguration"] == {"Types": ["REGIONAL"]}


def test_gateway_errors_are_problem_details(primary: StackTemplate) -> None:
    responses = {
        resource["Properties"]["ResponseType"]: resource["Properties"]
        for resource in primary.of_type("AWS::ApiGateway::GatewayResponse").values()
    }
    assert {"UNAUTHORIZED", "ACCESS_DENIED", "THROTTLED", "MISSING_AUTHENTICATION_TOKEN"} <= set(responses)
    for response in responses.values():
        assert response["ResponseParameters"]["gatewayresponse.header.Content-Type"] == "'application/problem+json'"
        # what API Gateway sends once it has substituted the $context variables
        body = json.loads(
            response["ResponseTemplates"]["application/json"]
            .replace("$context.error.messageString", '"message"')
            .replace("$context.requestId", "request-1")
        )
        assert body["status"] == int(response["StatusCode"])
        assert set(body) == {"type", "title", "status", "detail", "code", "request_id"}
    assert responses["MISSING_AUTHENTICATION_TOKEN"]["StatusCode"] == "404"
    assert responses["THROTTLED"]["ResponseParameters"]["gatewayresponse.header.Retry-After"] == "'1'"


def test_a_stack_with_only_public_endpoints_has_no_authorizer(extras: StackTemplate) -> None:
    assert extras.of_type("AWS::ApiGateway::Authorizer") == {}
    assert registry.AUTHORIZER.name not in extras.python_functions()
