"""The global stack: Route 53 health checks per region and the failover records clients resolve.

Deployed to the primary region after both regional stacks (it depends on them). It only names
the regional records (`api-<region>.<domain>`, …) that each regional stack's edge writes in the
hosted zone, so no value crosses regions through CloudFormation.

- One HTTPS health check per region on `https://api-<region>.<domain>/v1/health` (every 30 s,
  unhealthy after 3 failures). It stands for the whole region: `get_health` runs behind the same
  API Gateway, functions and data tier as everything else there.
- `api.<domain>` and `ws.<domain>`: failover alias records (A) to the regional records in the same
  zone; `iot.<domain>`: failover CNAME records to `iot-<region>.<domain>`. PRIMARY carries the
  primary region's health check, SECONDARY the secondary's. The WebSocket and IoT names use the
  REST health check too: a WebSocket endpoint answers a plain HTTPS GET with an error (no upgrade)
  and the IoT endpoint speaks MQTT only, so neither can be probed by Route 53 directly, and both
  depend on what `/v1/health` checks (the region's functions and database).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from aws_cdk import App, Environment, Stack
from aws_cdk import aws_route53 as route53
from constructs import Construct

from infra.deployment import Deployment
from infra.edge import API, IOT, SERVICES, WS, EdgeSettings

HEALTH_PATH = "/v1/health"
HEALTH_CHECK_INTERVAL_S = 30
HEALTH_CHECK_FAILURE_THRESHOLD = 3
# short enough that resolvers follow a failover within a minute or two of the health check flipping
CNAME_TTL_S = 60
ROLES = ("PRIMARY", "SECONDARY")


class GlobalStack(Stack):
    """Health checks and failover records for `api.`, `ws.` and `iot.<domain>`."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: EdgeSettings,
        regions: tuple[str, str],
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.health_checks: dict[str, route53.CfnHealthCheck] = {}
        for role, region in zip(ROLES, regions, strict=True):
            self.health_checks[region] = route53.CfnHealthCheck(
                self,
                f"{role.capitalize()}Health",
                health_check_config=route53.CfnHealthCheck.HealthCheckConfigProperty(
                    type="HTTPS",
                    fully_qualified_domain_name=settings.regional_name(API, region),
                    port=443,
                    resource_path=HEALTH_PATH,
                    enable_sni=True,
                    request_interval=HEALTH_CHECK_INTERVAL_S,
                    failure_threshold=HEALTH_CHECK_FAILURE_THRESHOLD,
                ),
                health_check_tags=[
                    route53.CfnHealthCheck.HealthCheckTagProperty(
                        key="Name", value=f"{settings.regional_name(API, region)}{HEALTH_PATH}"
                    )
                ],
            )
        for service in SERVICES:
            for role, region in zip(ROLES, regions, strict=True):
                self._failover_record(settings, service, role, region)

    def _failover_record(self, settings: EdgeSettings, service: str, role: str, region: str) -> None:
        target = settings.regional_name(service, region)
        alias = service in (API, WS)
        # api/ws: an alias (A) to the regional record in the same zone, which is itself an alias to
        # API Gateway: no extra lookup; the health check decides, not the target's health.
        # iot: the regional record is a CNAME (to the account's iot:Data-ATS endpoint), so is this.
        if not alias and service != IOT:
            raise ValueError(f"no failover record kind for {service}")
        route53.CfnRecordSet(
            self,
            f"{service.capitalize()}{role.capitalize()}Record",
            hosted_zone_id=settings.hosted_zone_id,
            name=f"{settings.global_name(service)}.",
            type="A" if alias else "CNAME",
            set_identifier=f"{service}-{region}",
            failover=role,
            health_check_id=self.health_checks[region].attr_health_check_id,
            alias_target=route53.CfnRecordSet.AliasTargetProperty(
                hosted_zone_id=settings.hosted_zone_id, dns_name=f"{target}.", evaluate_target_health=False
            )
            if alias
            else None,
            ttl=None if alias else str(CNAME_TTL_S),
            resource_records=None if alias else [target],
        )


def global_stack(app: App, regional: Sequence[Stack]) -> GlobalStack | None:
    """The global stack in the primary region, after the regional stacks; none without a domain."""
    settings = EdgeSettings.from_context(app.node)
    if settings is None:
        return None
    deployment = Deployment.from_context(app.node)
    stack = GlobalStack(
        app,
        f"DogWalk-{deployment.stage}-global",
        settings=settings,
        regions=deployment.regions,
        env=Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=deployment.primary_region),
        description=f"DogWalk platform, {deployment.stage}, global: Route 53 health checks and failover records",
    )
    for stack_in_region in regional:
        stack.add_stack_dependency(stack_in_region, "the failover records alias the regional records")
    return stack
