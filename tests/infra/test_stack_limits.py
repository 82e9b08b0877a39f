"""Every template stays well under CloudFormation's limits, and the API's stateful parts stay where they are.

CloudFormation refuses a template of more than 500 resources or 200 parameters. The regional stacks
grow by three resources per declared function (function, role, log group) and the routes' nested
stack by about three per endpoint (resource, method, permission): a margin of 50 leaves time to
split again before a deploy fails.
"""

from __future__ import annotations

import pytest
from nested_stacks import Nested, all_nested
from stack_template import StackTemplate, Synthesized

from dogwalk import registry

pytestmark = pytest.mark.infra

RESOURCE_MARGIN_LIMIT = 450
PARAMETER_LIMIT = 200
# the REST API's parts that the regional stack keeps under the logical ids it deployed them with:
# a new id would replace them (a new API id and URL; a stage of the same name fails to create)
API_LOGICAL_IDS = {
    "AWS::ApiGateway::RestApi": "ApiRestApiE35FEAFE",
    "AWS::ApiGateway::Account": "ApiRestApiAccount598A1DA6",
    "AWS::ApiGateway::Stage": "ApiRestApiDeploymentStage{stage}E2B308CE",
    "AWS::IAM::Role": "ApiRestApiCloudWatchRoleB7879BFC",
}
# the gateway responses deployed before the routes moved (more may come)
GATEWAY_RESPONSE_IDS = {
    "ApiRestApiAccessDeniedProblemB25BCF8F",
    "ApiRestApiAuthorizerFailureProblem8D757563",
    # every other 4xx and 5xx API Gateway answers by itself, with the security headers (issue 14)
    "ApiRestApiDefault4xxProblem6FBA53A0",
    "ApiRestApiDefault5xxProblem64810933",
    "ApiRestApiIntegrationFailureProblemCE8A1BFB",
    "ApiRestApiIntegrationTimeoutProblemEAB4336D",
    "ApiRestApiMissingAuthenticationTokenProblem6576F504",
    "ApiRestApiRequestTooLargeProblem3A024FBB",
    "ApiRestApiThrottledProblem2A7CDF42",
    "ApiRestApiUnauthorizedProblemAEAB01C1",
}


def every_template(synthesized: Synthesized) -> dict[str, StackTemplate]:
    """Stack name or nested template file → template, for every stack the app synthesizes."""
    found = dict(synthesized.templates)
    for stack_name in synthesized.templates:
        found.update(all_nested(synthesized, stack_name))
    return found


def test_every_template_has_at_most_450_resources(synthesized: Synthesized) -> None:
    templates = every_template(synthesized)
    assert len(templates) > len(synthesized.templates), "the nested templates are found"
    counts = {name: len(template.resources) for name, template in templates.items()}
    assert {name: count for name, count in counts.items() if count > RESOURCE_MARGIN_LIMIT} == {}


def test_every_template_has_fewer_than_200_parameters(synthesized: Synthesized) -> None:
    templates = every_template(synthesized)
    counts = {name: len(template.template.get("Parameters", {})) for name, template in templates.items()}
    assert {name: count for name, count in counts.items() if count >= PARAMETER_LIMIT} == {}


def test_the_routes_stack_takes_one_parameter_per_endpoint_and_three(routes: list[Nested]) -> None:
    """The alias ARNs come in as parameters: the routes' stack holds up to ~195 endpoints before the limit."""
    for stack in routes:
        parameters = stack.template.template.get("Parameters", {})
        # the API's id and root resource, the authorizer function, one `live` alias per endpoint
        assert len(parameters) == len(registry.ENDPOINTS) + 3
        assert len(parameters) < PARAMETER_LIMIT


def test_the_regional_stacks_keep_the_rest_api_stage_and_account_ids(
    regional: list[StackTemplate], synthesized: Synthesized
) -> None:
    stage = synthesized.deployment.stage
    for template in regional:
        for resource_type, logical_id in API_LOGICAL_IDS.items():
            logical_id = logical_id.format(stage=stage)
            assert template.resources[logical_id]["Type"] == resource_type, logical_id
        assert set(template.of_type("AWS::ApiGateway::GatewayResponse")) >= GATEWAY_RESPONSE_IDS
        _, stage_resource = template.only("AWS::ApiGateway::Stage")
        assert stage_resource["Properties"]["RestApiId"] == {"Ref": API_LOGICAL_IDS["AWS::ApiGateway::RestApi"]}


def test_the_scale_stack_holds_the_registry_and_40_more_functions_within_the_limits(synthesized: Synthesized) -> None:
    """The registry and SCALE_EXTRAS more declarations synthesize, every template within the margins above."""
    from extra_declarations import SCALE_ENDPOINTS, SCALE_EXTRAS, SCALE_SCHEDULES, SCALE_STACK

    assert len(SCALE_ENDPOINTS) + len(SCALE_SCHEDULES) == SCALE_EXTRAS == 40
    templates = {
        name: t
        for name, t in every_template(synthesized).items()
        if name.startswith(("DogWalk-test-scale", "DogWalktestscale"))
    }
    functions = sum(len(template.of_type("AWS::Lambda::Function")) for template in templates.values())
    assert functions >= len(registry.functions()) + SCALE_EXTRAS
    assert SCALE_STACK in synthesized.templates
    assert {name: len(t.resources) for name, t in templates.items() if len(t.resources) > RESOURCE_MARGIN_LIMIT} == {}
    assert {
        name: len(t.template.get("Parameters", {}))
        for name, t in templates.items()
        if len(t.template.get("Parameters", {})) >= PARAMETER_LIMIT
    } == {}


def test_the_dashboard_and_the_queries_take_at_most_one_parameter_per_function(synthesized: Synthesized) -> None:
    """Split in two (infra/observability.py), neither grows by more than one parameter per function."""
    for stack_name in (synthesized.primary, synthesized.secondary):
        functions = sum(
            len(template.of_type("AWS::Lambda::Function"))
            for name, template in {
                stack_name: synthesized.templates[stack_name],
                **all_nested(synthesized, stack_name),
            }.items()
        )
        for construct_id in ("Observability", "Queries"):
            [(name, template)] = [
                (name, template)
                for name, template in all_nested(synthesized, stack_name).items()
                if name.startswith(f"{stack_name.replace('-', '')}{construct_id}")
            ]
            # one per function, and a few: queues, dead-letter queues, the topic, the access logs
            assert len(template.template.get("Parameters", {})) <= functions + 25, name
