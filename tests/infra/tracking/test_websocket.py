"""The live view's WebSocket API: the registry's routes, a logged and throttled `v1` stage, and the push grant."""

from __future__ import annotations

import pytest
from extra_declarations import unbundled_app
from stack_template import StackTemplate, referenced_ids

from dogwalk import registry
from dogwalk.config import environment_names
from infra.deployment import Deployment
from infra.stack import RegionalStack
from infra.tracking.websocket import STAGE_NAME

pytestmark = pytest.mark.infra

API = "AWS::ApiGatewayV2::Api"
ENV = environment_names()["websocket_management_url"]
PUSHERS = frozenset(
    declaration.name for declaration in registry.functions() if registry.WEBSOCKET_PUSH in declaration.uses
)


def api_id(template: StackTemplate) -> str:
    logical_id, _ = template.only(API)
    return logical_id


def manage_connections_statements(template: StackTemplate, function_id: str) -> list[dict[str, object]]:
    return [
        statement
        for statement in template.statements_of(function_id)
        if "execute-api:ManageConnections" in statement["Action"]
    ]


def arn_text(value: object) -> str:
    """An `Fn::Join` ARN as text, tokens as `<Ref>`."""
    if isinstance(value, str):
        return value
    assert isinstance(value, dict)
    if "Ref" in value:
        return f"<{value['Ref']}>"
    separator, parts = value["Fn::Join"]
    return str(separator).join(arn_text(part) for part in parts)


def test_env_var_name() -> None:
    assert ENV == "DOGWALK_WEBSOCKET_MANAGEMENT_URL"


def test_the_registry_declares_who_pushes() -> None:
    assert sorted(PUSHERS) == [
        "complete_booking",
        "ingest_walk_messages",
        "post_tracker_locations",
        "post_walk_locations",
        "send_message",  # messages: the recipient's open connections
        "ws_subscribe",
    ]


def test_api_selects_routes_by_the_action_field(regional: list[StackTemplate]) -> None:
    for template in regional:
        _, api = template.only(API)
        assert api["Properties"]["ProtocolType"] == "WEBSOCKET"
        assert api["Properties"]["RouteSelectionExpression"] == "$request.body.action"


def invoked(template: StackTemplate, declaration: registry.WebSocketRoute) -> str:
    """What API Gateway invokes for a route: the `live` alias of a function that starts from a snapshot."""
    if declaration.snap_start:
        return template.live_alias(declaration.name)
    return template.python_functions()[declaration.name]


def test_connect_and_subscribe_start_from_a_snapshot_and_disconnect_does_not() -> None:
    snapping = {route.route_key for route in registry.WEBSOCKET_ROUTES if route.snap_start}
    assert snapping == {"$connect", "subscribe"}  # what an owner opening the live view waits for


def test_exactly_the_registry_routes_each_proxied_to_its_function(regional: list[StackTemplate]) -> None:
    for template in regional:
        lambdas = set(template.of_type("AWS::Lambda::Function")) | set(template.of_type("AWS::Lambda::Alias"))
        routes = {
            route["Properties"]["RouteKey"]: route["Properties"]
            for route in template.of_type("AWS::ApiGatewayV2::Route").values()
        }
        assert sorted(routes) == sorted(route.route_key for route in registry.WEBSOCKET_ROUTES)
        assert sorted(routes) == ["$connect", "$disconnect", "subscribe"]
        for declaration in registry.WEBSOCKET_ROUTES:
            route = routes[declaration.route_key]
            assert referenced_ids(route["ApiId"]) == {api_id(template)}
            [integration_id] = referenced_ids(route["Target"])
            integration = template.properties(integration_id)
            assert integration["IntegrationType"] == "AWS_PROXY"
            targets = referenced_ids(integration["IntegrationUri"]) & lambdas
            assert targets == {invoked(template, declaration)}, declaration.name


def test_api_gateway_may_invoke_each_route_function_from_this_api_only(primary: StackTemplate) -> None:
    for declaration in registry.WEBSOCKET_ROUTES:
        permissions = [
            permission["Properties"]
            for permission in primary.of_type("AWS::Lambda::Permission").values()
            if referenced_ids(permission["Properties"]["FunctionName"]) == {invoked(primary, declaration)}
        ]
        [permission] = permissions
        assert permission["Principal"] == "apigateway.amazonaws.com"
        assert referenced_ids(permission["SourceArn"]) >= {api_id(primary)}
        assert arn_text(permission["SourceArn"]).endswith(declaration.route_key)


def test_stage_v1_deploys_itself_logs_and_throttles(
    regional: list[StackTemplate], synthesized_deployment: Deployment
) -> None:
    for template in regional:
        _, stage = template.only("AWS::ApiGatewayV2::Stage")
        properties = stage["Properties"]
        assert properties["StageName"] == STAGE_NAME == "v1"
        assert referenced_ids(properties["ApiId"]) == {api_id(template)}
        assert properties["AutoDeploy"] is True
        [log_group] = referenced_ids(properties["AccessLogSettings"]["DestinationArn"])
        assert template.resources[log_group]["Type"] == "AWS::Logs::LogGroup"
        assert template.properties(log_group)["RetentionInDays"] == 30
        assert "$context.requestId" in properties["AccessLogSettings"]["Format"]
        settings = properties["DefaultRouteSettings"]
        assert settings["ThrottlingRateLimit"] == synthesized_deployment.api_throttle_rate_limit
        assert settings["ThrottlingBurstLimit"] == synthesized_deployment.api_throttle_burst_limit
        assert settings["LoggingLevel"] == "ERROR"
        assert settings["DataTraceEnabled"] is False


def test_stage_waits_for_the_account_cloudwatch_role(regional: list[StackTemplate]) -> None:
    # API Gateway refuses a stage with logs before the account has its CloudWatch role
    for template in regional:
        account_id, _ = template.only("AWS::ApiGateway::Account")
        stage_id, _ = template.only("AWS::ApiGatewayV2::Stage")
        assert account_id in template.resources[stage_id]["DependsOn"]


def test_exactly_the_functions_that_push_may_manage_connections(
    primary: StackTemplate, synthesized_deployment: Deployment
) -> None:
    functions = primary.python_functions()
    assert set(functions) == {declaration.name for declaration in registry.functions()}
    stage_arn = (
        f"arn:aws:execute-api:{synthesized_deployment.primary_region}:<AWS::AccountId>:<{api_id(primary)}>/{STAGE_NAME}"
    )
    for name, function_id in functions.items():
        statements = manage_connections_statements(primary, function_id)
        if name not in PUSHERS:
            assert statements == [], name
            continue
        [statement] = statements
        assert statement["Effect"] == "Allow"
        assert statement["Action"] == "execute-api:ManageConnections"
        resources = statement["Resource"]
        assert isinstance(resources, list)
        # POST (push), GET (read) and DELETE (close) on this stage's connections, nothing else
        assert {arn_text(resource) for resource in resources} == {
            f"{stage_arn}/{method}/@connections/*" for method in ("POST", "GET", "DELETE")
        }


def test_no_action_is_a_wildcard_and_execute_api_is_only_manage_connections(regional: list[StackTemplate]) -> None:
    for template in regional:
        for statement in template.iam_statements():
            listed = statement["Action"]
            actions = [listed] if isinstance(listed, str) else listed
            for action in actions:
                assert "*" not in action, statement
                if action.startswith("execute-api:"):
                    assert action == "execute-api:ManageConnections"


def test_exactly_the_functions_that_push_get_the_management_url(
    primary: StackTemplate, synthesized_deployment: Deployment
) -> None:
    host = f"<{api_id(primary)}>.execute-api.{synthesized_deployment.primary_region}.<AWS::URLSuffix>"
    for name, function_id in primary.python_functions().items():
        variables = primary.properties(function_id)["Environment"]["Variables"]
        assert (ENV in variables) == (name in PUSHERS), name
        if name in PUSHERS:
            assert arn_text(variables[ENV]) == f"https://{host}/{STAGE_NAME}"


def test_the_websocket_url_is_an_output(primary: StackTemplate, synthesized_deployment: Deployment) -> None:
    output = primary.template["Outputs"]["WebSocketUrl"]
    host = f"<{api_id(primary)}>.execute-api.{synthesized_deployment.primary_region}.<AWS::URLSuffix>"
    assert arn_text(output["Value"]) == f"wss://{host}/v1"


def test_a_stack_without_routes_has_no_websocket_api(extras: StackTemplate) -> None:
    assert extras.of_type(API) == {}
    assert "WebSocketUrl" not in extras.template.get("Outputs", {})


def test_a_function_that_pushes_needs_the_websocket_api(synthesized_deployment: Deployment) -> None:
    pusher = registry.Schedule(name="push_alone", uses=frozenset({registry.WEBSOCKET_PUSH}))
    with pytest.raises(ValueError, match="push_alone pushes to WebSocket clients but the stack has no WebSocket API"):
        RegionalStack(
            unbundled_app(),
            "PushAlone",
            deployment=synthesized_deployment,
            endpoints=(),
            schedules=(pusher,),
            queue_consumers=(),
            topic_rules=(),
            websocket_routes=(),
            device_authorizer=None,
        )


def test_two_routes_with_one_key_are_refused(synthesized_deployment: Deployment) -> None:
    twice = (
        registry.WebSocketRoute(name="ws_connect", route_key="$connect"),
        registry.WebSocketRoute(name="ws_connect_again", route_key="$connect"),
    )
    with pytest.raises(ValueError, match="two WebSocket routes share a route key"):
        RegionalStack(
            unbundled_app(),
            "Twice",
            deployment=synthesized_deployment,
            endpoints=(),
            websocket_routes=twice,
            device_authorizer=None,
        )
