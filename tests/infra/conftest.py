"""Synthesizes the CDK app once per test session, without bundling, and serves its templates.

Self-contained: no database, cache or broker. Bundling is switched off with the context
`aws:cdk:bundling-stacks: []`, so pip never runs here and the dependencies layer is staged
unbuilt (see `infra.bundling.dependencies_layer_code`).
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

import pytest

# jsii prints a banner on every start under Node 20; the tests do not need to see it
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from aws_cdk import Environment
from extra_declarations import (
    EXTRA_CONSUMER,
    EXTRA_NOTIFY_ENDPOINT,
    EXTRA_PAYMENTS_ENDPOINT,
    EXTRA_PLATFORM_APPLICATIONS,
    EXTRA_SCHEDULE,
    EXTRA_TOPIC_RULE,
    EXTRAS_STACK,
    SCALE_ENDPOINTS,
    SCALE_NESTED_SERVICES,
    SCALE_SCHEDULES,
    SCALE_SERVICE,
    SCALE_STACK,
    unbundled_app,
)
from nested_stacks import API_ROUTES, Nested, nested, with_service_functions
from stack_template import StackTemplate, Synthesized

from dogwalk import registry
from infra.compliance import add_checks
from infra.deployment import Deployment
from infra.failover import global_stack
from infra.pipeline import deploy_role_stack
from infra.stack import NESTED_SERVICES, RegionalStack, regional_stacks


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    outdir = tmp_path_factory.mktemp("cdk.out")
    app = unbundled_app(outdir=str(outdir))
    primary, secondary = regional_stacks(app)
    global_stack(app, [primary, secondary])
    deploy_role_stack(app)
    deployment = Deployment.from_context(app.node)
    RegionalStack(
        app,
        EXTRAS_STACK,
        # in the primary region, as the applications' ARNs
        deployment=dataclasses.replace(deployment, **EXTRA_PLATFORM_APPLICATIONS),
        endpoints=(registry.endpoint("get_health"), EXTRA_PAYMENTS_ENDPOINT, EXTRA_NOTIFY_ENDPOINT),
        schedules=(EXTRA_SCHEDULE,),
        queue_consumers=(EXTRA_CONSUMER,),
        topic_rules=(EXTRA_TOPIC_RULE,),
        # no live view and no IoT endpoint: the stack stays about the kinds above
        websocket_routes=(),
        device_authorizer=None,
        restore_validator=None,
        env=Environment(region=deployment.primary_region),
    )
    # the registry and 40 more functions, of a nested service: test_stack_limits.py holds it to the limits
    RegionalStack(
        app,
        SCALE_STACK,
        deployment=deployment,
        endpoints=(*registry.ENDPOINTS, *SCALE_ENDPOINTS),
        schedules=(*registry.SCHEDULES, *SCALE_SCHEDULES),
        # as proposed for the app: the new services' functions nested too (infra/stack.py NESTED_SERVICES)
        nested_services={*NESTED_SERVICES, *SCALE_NESTED_SERVICES, SCALE_SERVICE},
        # no custom domains: the global stack's drill reads the app's own regional edges
        env=Environment(region=deployment.secondary_region),
    )
    # the synth fails if cdk-nag finds anything no construct acknowledges
    add_checks(app)
    assembly = app.synth()
    # reading the files is faster than marshalling the templates through jsii
    templates = {
        stack.stack_name: StackTemplate(json.loads((outdir / stack.template_file).read_text()))
        for stack in assembly.stacks
    }
    return Synthesized(outdir, deployment, primary.stack_name, secondary.stack_name, templates)


@pytest.fixture(scope="session")
def with_functions(synthesized: Synthesized) -> dict[str, StackTemplate]:
    """Each regional stack's template with its nested services' function stacks inlined (nested_stacks.py).

    What the tests of functions read: every registry function is in it, whichever template CDK put
    it in (infra/stack.py NESTED_SERVICES). `synthesized.templates` keeps the templates as they are.
    """
    return {
        name: with_service_functions(synthesized, name)
        for name in (synthesized.primary, synthesized.secondary, EXTRAS_STACK)
    }


@pytest.fixture(scope="session")
def regional(synthesized: Synthesized, with_functions: dict[str, StackTemplate]) -> list[StackTemplate]:
    """The stacks the app deploys (primary and secondary region), their service function stacks inlined."""
    return [with_functions[synthesized.primary], with_functions[synthesized.secondary]]


@pytest.fixture(scope="session")
def primary(synthesized: Synthesized, with_functions: dict[str, StackTemplate]) -> StackTemplate:
    return with_functions[synthesized.primary]


@pytest.fixture(scope="session")
def extras(with_functions: dict[str, StackTemplate]) -> StackTemplate:
    return with_functions[EXTRAS_STACK]


@pytest.fixture(scope="session")
def routes(synthesized: Synthesized, with_functions: dict[str, StackTemplate]) -> list[Nested]:
    """The REST API's routes (resources, methods, permissions, authorizer) of the primary and the secondary stack."""
    return [
        nested(synthesized, name, API_ROUTES, parent=with_functions[name])
        for name in (synthesized.primary, synthesized.secondary)
    ]


@pytest.fixture(scope="session")
def primary_routes(routes: list[Nested]) -> Nested:
    return routes[0]


@pytest.fixture(scope="session")
def observability(synthesized: Synthesized, with_functions: dict[str, StackTemplate]) -> list[Nested]:
    """The Observability nested stack per region; its parent is the regional template with the nested
    services' functions inlined."""
    return [
        nested(synthesized, name, "Observability", parent=with_functions[name])
        for name in (synthesized.primary, synthesized.secondary)
    ]


@pytest.fixture(scope="session")
def assets(synthesized: Synthesized) -> dict[str, Any]:
    """The primary stack's asset manifest."""
    manifest: dict[str, Any] = json.loads((synthesized.outdir / f"{synthesized.primary}.assets.json").read_text())
    return manifest


@pytest.fixture(scope="session")
def synthesized_deployment(synthesized: Synthesized) -> Deployment:
    return synthesized.deployment
