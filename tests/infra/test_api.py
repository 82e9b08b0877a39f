"""The REST API serves every registry endpoint at its method and path, protected as declared.

The API, its stage and gateway responses are in the regional stack; its routes (resources, methods,
their invoke permissions) and the token authorizer in the `ApiRoutes` nested stack (infra/api.py).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence

import pytest
from aws_cdk import App, Environment, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from cfnlint.api import ManualArgs, lint_file
from extra_declarations import EXTRAS_STACK
from nested_stacks import API_ROUTES, Nested, canary_stacks, nested
from stack_template import StackTemplate, Synthesized, referenced_ids

from dogwalk import registry
from infra.api import ROOT_NOT_FOUND_DETAIL, Api, ApiRoutes, path_for_arn
from infra.deployment import Deployment, cdk_json_context
from infra.functions import pascal_case

pytestmark = pytest.mark.infra

PROTECTED = [endpoint for endpoint in registry.ENDPOINTS if not endpoint.public]
PUBLIC = [endpoint for endpoint in registry.ENDPOINTS if endpoint.public]


def rest_api_id(template: StackTemplate) -> str:
    rest_api_id, _ = template.only("AWS::ApiGateway::RestApi")
    return rest_api_id


def test_every_endpoint_has_its_method_and_path(routes: list[Nested]) -> None:
    for stack in routes:
        assert set(stack.template.api_methods()) == {
            (endpoint.method, endpoint.path) for endpoint in registry.ENDPOINTS
        }


def test_the_routes_are_on_the_regional_stacks_api(routes: list[Nested]) -> None:
    for stack in routes:
        api = rest_api_id(stack.parent)
        # the routes' stack has no API of its own: it adds resources and methods to the parent's by id
        assert stack.template.of_type("AWS::ApiGateway::RestApi") == {}
        for kind in ("AWS::ApiGateway::Resource", "AWS::ApiGateway::Method", "AWS::ApiGateway::Authorizer"):
            for logical_id, resource in stack.template.of_type(kind).items():
                assert stack.parameter_source(resource["Properties"]["RestApiId"]) == {api}, logical_id
        top_level = [
            resource["Properties"]
            for resource in stack.template.of_type("AWS::ApiGateway::Resource").values()
            if resource["Properties"]["ParentId"]["Ref"] not in stack.template.resources
        ]
        assert top_level
        for resource in top_level:
            assert stack.parameter_values(resource["ParentId"]) == [{"Fn::GetAtt": [api, "RootResourceId"]}]


def test_the_regional_stack_answers_only_its_root_itself_with_a_404(regional: list[StackTemplate]) -> None:
    """CDK wants a method on the RestApi's own stack: the root's, a mock answering as an unknown path does."""
    for template in regional:
        assert template.of_type("AWS::ApiGateway::Resource") == {}
        assert template.of_type("AWS::ApiGateway::Authorizer") == {}
        [(key, method)] = template.api_methods().items()
        assert key == ("ANY", "/")
        assert method["AuthorizationType"] == "NONE"
        integration = method["Integration"]
        assert integration["Type"] == "MOCK"
        [response] = integration["IntegrationResponses"]
        assert response["StatusCode"] == "404"
        assert "SelectionPattern" not in response  # whatever the mock answers
        # as the gateway's own 404 (MISSING_AUTHENTICATION_TOKEN): problem+json and the security headers
        headers = response["ResponseParameters"]
        assert headers["method.response.header.Content-Type"] == "'application/problem+json'"
        assert headers["method.response.header.X-Content-Type-Options"] == "'nosniff'"
        assert headers["method.response.header.Cache-Control"] == "'no-store'"
        [declared] = method["MethodResponses"]
        assert declared == {"StatusCode": "404", "ResponseParameters": dict.fromkeys(headers, True)}
        body = json.loads(response["ResponseTemplates"]["application/json"])
        assert (body["status"], body["code"], body["detail"]) == (404, "not_found", ROOT_NOT_FOUND_DETAIL)
        assert body["request_id"] == "$context.requestId"


def test_each_method_proxies_to_its_own_function(primary_routes: Nested, synthesized: Synthesized) -> None:
    # through the function's `live` alias, in a canary nested stack (`Canary`, or `Canary<Service>` for the
    # endpoints of a nested service: test_deployments.py)
    canaries = canary_stacks(synthesized, synthesized.primary, parent=primary_routes.parent)
    functions = primary_routes.parent.python_functions()
    methods = primary_routes.template.api_methods()
    for endpoint in registry.ENDPOINTS:
        integration = methods[(endpoint.method, endpoint.path)]["Integration"]
        assert integration["Type"] == "AWS_PROXY"
        assert integration["IntegrationHttpMethod"] == "POST"
        uri = primary_routes.parameter_values(integration["Uri"])
        [(canary, alias)] = [(canary, alias) for canary in canaries for alias in canary.output_target(uri)]
        targets = canary.parameter_source(canary.template.properties(alias)["FunctionName"])
        assert targets == {functions[endpoint.name]}, endpoint.name


def test_each_invoke_permission_is_scoped_to_its_method_on_the_stage(
    routes: list[Nested], synthesized_deployment: Deployment
) -> None:
    for stack in routes:
        api = rest_api_id(stack.parent)
        permissions = [
            permission["Properties"]
            for permission in stack.template.of_type("AWS::Lambda::Permission").values()
            if "/authorizers/" not in json.dumps(permission["Properties"]["SourceArn"])
        ]
        expected = {
            f"/{synthesized_deployment.stage}/{endpoint.method}{path_for_arn(endpoint.path)}"
            for endpoint in registry.ENDPOINTS
        }
        found = set()
        for permission in permissions:
            assert permission["Principal"] == "apigateway.amazonaws.com"
            assert permission["Action"] == "lambda:InvokeFunction"
            source = permission["SourceArn"]
            assert stack.parameter_source(source) == {api}
            # arn:aws:execute-api:<region>:<account>:<api id>/<stage>/<METHOD>/<path>
            text = finding_text_of(source)
            assert text.startswith("arn:aws:execute-api:"), text
            found.add(text[text.index("/") :])
        assert found == expected
        assert len(permissions) == len(registry.ENDPOINTS)


def finding_text_of(value: object) -> str:
    """An ARN of the template as text, references as `<Name>` (see infra.compliance.finding_text)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Ref" in value:
        return f"<{value['Ref']}>"
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(finding_text_of(part) for part in parts)
    raise ValueError(value)


def test_protected_endpoints_use_the_token_authorizer(primary_routes: Nested) -> None:
    authorizer_id, _ = primary_routes.template.only("AWS::ApiGateway::Authorizer")
    methods = primary_routes.template.api_methods()
    for endpoint in PROTECTED:
        method = methods[(endpoint.method, endpoint.path)]
        assert method["AuthorizationType"] == "CUSTOM"
        assert method["AuthorizerId"] == {"Ref": authorizer_id}


def test_public_endpoints_use_no_authorizer(primary_routes: Nested) -> None:
    assert PUBLIC, "the registry has public endpoints (health, JWKS)"
    methods = primary_routes.template.api_methods()
    for endpoint in PUBLIC:
        method = methods[(endpoint.method, endpoint.path)]
        assert method["AuthorizationType"] == "NONE"
        assert "AuthorizerId" not in method


def test_token_authorizer_reads_the_authorization_header_and_caches_five_minutes(primary_routes: Nested) -> None:
    _, authorizer = primary_routes.template.only("AWS::ApiGateway::Authorizer")
    properties = authorizer["Properties"]
    assert properties["Type"] == "TOKEN"
    assert properties["IdentitySource"] == "method.request.header.Authorization"
    assert properties["AuthorizerResultTtlInSeconds"] == 300
    targets = primary_routes.parameter_source(properties["AuthorizerUri"])
    assert targets == {primary_routes.parent.live_alias(registry.AUTHORIZER.name)}  # the version SnapStart snapshots


def test_api_gateway_may_invoke_the_authorizer(primary_routes: Nested) -> None:
    primary = primary_routes.parent
    alias = primary.live_alias(registry.AUTHORIZER.name)
    authorizer_id, _ = primary_routes.template.only("AWS::ApiGateway::Authorizer")
    # in the routes' stack, beside the authorizer; none in the regional stack
    assert not [
        permission
        for permission in primary.of_type("AWS::Lambda::Permission").values()
        if referenced_ids(permission["Properties"]["FunctionName"]) == {alias}
    ]
    permissions = [
        permission["Properties"]
        for permission in primary_routes.template.of_type("AWS::Lambda::Permission").values()
        if primary_routes.parameter_source(permission["Properties"]["FunctionName"]) == {alias}
    ]
    assert [permission["Principal"] for permission in permissions] == ["apigateway.amazonaws.com"]
    [permission] = permissions
    assert authorizer_id in referenced_ids(permission["SourceArn"])


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
    assert {"DEFAULT_4XX", "DEFAULT_5XX"} <= set(responses)
    for response_type, response in responses.items():
        assert response["ResponseParameters"]["gatewayresponse.header.Content-Type"] == "'application/problem+json'"
        # what API Gateway sends once it has substituted the $context variables
        body = json.loads(
            response["ResponseTemplates"]["application/json"]
            .replace("$context.error.messageString", '"message"')
            .replace("$context.requestId", "request-1")
        )
        if response_type.startswith("DEFAULT_"):  # the status stays the error's own: the problem omits it
            assert "StatusCode" not in response
            assert set(body) == {"type", "title", "detail", "code", "request_id"}
            continue
        assert body["status"] == int(response["StatusCode"])
        assert set(body) == {"type", "title", "status", "detail", "code", "request_id"}
    assert responses["MISSING_AUTHENTICATION_TOKEN"]["StatusCode"] == "404"
    assert responses["THROTTLED"]["ResponseParameters"]["gatewayresponse.header.Retry-After"] == "'1'"


def test_a_stack_with_only_public_endpoints_has_no_authorizer(extras: StackTemplate, synthesized: Synthesized) -> None:
    routes = nested(synthesized, EXTRAS_STACK, API_ROUTES)
    assert len(routes.template.api_methods()) == 3
    for template in (extras, routes.template):
        assert template.of_type("AWS::ApiGateway::Authorizer") == {}
    assert registry.AUTHORIZER.name not in extras.python_functions()


def test_the_routes_templates_pass_cfn_lint(synthesized: Synthesized) -> None:
    regions = {synthesized.primary: synthesized.deployment.primary_region}
    regions[synthesized.secondary] = synthesized.deployment.secondary_region
    findings = []
    for stack_name, region in regions.items():
        [path] = synthesized.outdir.glob(f"{stack_name.replace('-', '')}{API_ROUTES}*.nested.template.json")
        findings += [
            f"{path.name}: {match.rule.id} {match.message}"
            for match in lint_file(path, config=ManualArgs(regions=[region]))
        ]
    assert findings == []


def test_the_stage_is_deployed_once_the_routes_exist(regional: list[StackTemplate], routes: list[Nested]) -> None:
    for template, stack in zip(regional, routes, strict=True):
        [(deployment, properties)] = template.of_type("AWS::ApiGateway::Deployment").items()
        # CloudFormation creates the deployment (a snapshot of the API) only after the routes' stack
        assert stack.resource_id in properties["DependsOn"]
        stage_id, stage = template.only("AWS::ApiGateway::Stage")
        assert stage["Properties"]["DeploymentId"] == {"Ref": deployment}
        # and the routes' stack does not wait for the stage (that would be a cycle)
        assert stage_id not in referenced_ids(template.properties(stack.resource_id)["Parameters"])


HEALTH = registry.Endpoint(name="get_health", method="GET", path="/v1/health")
DOGS = registry.Endpoint(name="list_dogs", method="GET", path="/v1/dogs", roles=frozenset({"owner"}))


def deployment_id(endpoints: Sequence[registry.Endpoint], code: str = "def handler(event, context): pass") -> str:
    """The logical id of the stage's deployment in a small stack with these routes."""
    app = App(context=cdk_json_context())
    stack = Stack(app, "Routes", env=Environment(region="us-east-1"))

    def function(name: str) -> lambda_.Function:
        return lambda_.Function(
            stack,
            pascal_case(name),
            runtime=lambda_.Runtime.PYTHON_3_12,
            handler="index.handler",
            code=lambda_.Code.from_inline(code),
        )

    api = Api(stack, "Api", deployment=Deployment.from_context(app.node), log_key=kms.Key(stack, "Key"))
    ApiRoutes(
        stack,
        API_ROUTES,
        api=api,
        endpoints=endpoints,
        functions={endpoint.name: function(endpoint.name) for endpoint in endpoints},
        authorizer=function("authorize") if any(not endpoint.public for endpoint in endpoints) else None,
    )
    template = StackTemplate(app.synth().get_stack_by_name("Routes").template)
    [found] = template.of_type("AWS::ApiGateway::Deployment")
    return found


def test_a_changed_route_makes_a_new_deployment_and_nothing_else_does() -> None:
    """The routes are in another stack than the deployment: CDK would not see them change by itself."""
    first = deployment_id([HEALTH, DOGS])
    assert deployment_id([HEALTH, DOGS]) == first
    # a function's code is not a route: the API needs no new deployment
    assert deployment_id([HEALTH, DOGS], code="def handler(event, context): return {}") == first
    changed = [
        [HEALTH],
        [HEALTH, DOGS, registry.Endpoint(name="create_dog", method="POST", path="/v1/dogs", roles=DOGS.roles)],
        [HEALTH, dataclasses.replace(DOGS, path="/v1/pets")],
        [HEALTH, dataclasses.replace(DOGS, method="POST")],
        [HEALTH, dataclasses.replace(DOGS, roles=frozenset())],
        [HEALTH, dataclasses.replace(DOGS, name="list_pets")],
    ]
    ids = [deployment_id(endpoints) for endpoints in changed]
    assert first not in ids
    assert len(set(ids)) == len(ids)


def test_every_gateway_response_carries_the_security_headers(primary: StackTemplate) -> None:
    responses = primary.of_type("AWS::ApiGateway::GatewayResponse").values()

    for response in responses:
        headers = response["Properties"]["ResponseParameters"]
        assert headers["gatewayresponse.header.Strict-Transport-Security"] == "'max-age=63072000; includeSubDomains'"
        assert headers["gatewayresponse.header.X-Content-Type-Options"] == "'nosniff'"
        assert headers["gatewayresponse.header.Cache-Control"] == "'no-store'"


def test_no_resource_of_the_api_is_a_local_route(synthesized: Synthesized, routes: list[Nested]) -> None:
    """The local platform's `/_local/...` routes (mailbox, stand-in identity providers) never deploy."""
    parts = [
        str(resource["Properties"]["PathPart"])
        for template in [*synthesized.templates.values(), *(stack.template for stack in routes)]
        for resource in template.of_type("AWS::ApiGateway::Resource").values()
    ]

    assert "oidc" in parts and [part for part in parts if "_local" in part] == []
    for stack in routes:
        assert ("POST", "/v1/auth/oidc/{provider}") in stack.template.api_methods()
        assert [path for _, path in stack.template.api_methods() if "_local" in path] == []
