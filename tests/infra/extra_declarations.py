"""Declarations of kinds the registry does not use yet, so that the tests cover their constructs."""

from __future__ import annotations

from typing import Any

from aws_cdk import App

from dogwalk import registry
from infra.deployment import cdk_json_context

# the stack that carries them, next to the app's own stacks in the tests' app
EXTRAS_STACK = "DogWalk-test-extras"
EXTRA_SCHEDULE = registry.Schedule(
    name="rotate_signing_keys", every_s=86400, uses=frozenset({registry.SIGNING_KEYS_WRITE})
)
# public, so that the extras stack still needs no authorizer; the registry's payment endpoints are not
EXTRA_PAYMENTS_ENDPOINT = registry.Endpoint(
    name="check_payments",
    method="GET",
    path="/v1/test/payments",
    uses=frozenset({registry.PAYMENTS, registry.DATABASE}),
)
# public too; the extras stack has both push platform applications, so it gets the push grants
EXTRA_NOTIFY_ENDPOINT = registry.Endpoint(
    name="check_notify",
    method="POST",
    path="/v1/test/notify",
    uses=frozenset({registry.NOTIFY}),
)
EXTRA_PLATFORM_APPLICATIONS = {
    "fcm_platform_application_arn": "arn:aws:sns:us-east-1:123456789012:app/GCM/dogwalk-test-fcm",
    "apns_platform_application_arn": "arn:aws:sns:us-east-1:123456789012:app/APNS/dogwalk-test-apns",
}
EXTRA_CONSUMER = registry.QueueConsumer(
    name="ingest_locations",
    queue="walk_locations",
    batch_size=25,
    max_receive_count=3,
    timeout_s=20,
    uses=frozenset({registry.DATABASE}),
)
EXTRA_TOPIC_RULE = registry.TopicRule(
    name="walk_locations_rule", topic_filter="dogwalk/walks/+/location", queue="walk_locations"
)


def unbundled_app(**kwargs: Any) -> App:
    """An app with cdk.json's context in which no stack bundles assets, so pip never runs.

    CDK stages (and bundles) an asset when the construct is created, not at synth, so even
    an app that is never synthesized needs this context.
    """
    return App(context={**cdk_json_context(), "aws:cdk:bundling-stacks": []}, **kwargs)


# the stack that proves the app's limits hold with room to grow: the registry's functions plus
# SCALE_EXTRAS more, of a service whose functions are nested (infra/functions.py: ServiceFunctions)
SCALE_STACK = "DogWalk-test-scale"
SCALE_SERVICE = "scale"
SCALE_EXTRAS = 40
# the registry's services whose functions the scale stack nests as well (not yet the app's own choice)
SCALE_NESTED_SERVICES = frozenset({"messages", "care"})


def _scale_endpoint(index: int) -> registry.Endpoint:
    method = ("GET", "POST", "PUT", "DELETE")[index % 4]
    uses = {registry.DATABASE} | ({registry.CACHE} if index % 3 == 0 else set())
    return registry.Endpoint(
        name=f"scale_endpoint_{index:02d}",
        service=SCALE_SERVICE,
        method=method,
        path=f"/v1/scale/items{index:02d}",
        roles=registry.OWNER if index % 2 else registry.WALKER,
        uses=frozenset(uses),
    )


# mostly endpoints (each costs the API's routes and the canary stack too), a few schedules
SCALE_ENDPOINTS = tuple(_scale_endpoint(index) for index in range(SCALE_EXTRAS - 4))
SCALE_SCHEDULES = tuple(
    registry.Schedule(
        name=f"scale_job_{index}", service=SCALE_SERVICE, every_s=3600, uses=frozenset({registry.DATABASE})
    )
    for index in range(4)
)
