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
- An alarm per health check (unhealthy 2 minutes in a row) to the ops topic. Route 53's metrics
  are in us-east-1, and so are the alarms: the primary region must be us-east-1 (every
  environment's is), whose regional stack's ops topic they notify (named, not referenced).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from aws_cdk import App, ArnFormat, Duration, Environment, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra.alarms import ops_topic_name
from infra.deployment import Deployment
from infra.edge import API, IOT, SERVICES, WS, EdgeSettings

HEALTH_PATH = "/v1/health"
HEALTH_CHECK_INTERVAL_S = 30
HEALTH_CHECK_FAILURE_THRESHOLD = 3
# short enough that resolvers follow a failover within a minute or two of the health check flipping
CNAME_TTL_S = 60
ROLES = ("PRIMARY", "SECONDARY")
# where Route 53 publishes HealthCheckStatus, whatever the checked endpoint's region
HEALTH_CHECK_METRICS_REGION = "us-east-1"


class GlobalStack(Stack):
    """Health checks and failover records for `api.`, `ws.` and `iot.<domain>`."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: EdgeSettings,
        regions: tuple[str, str],
        stage: str | None = None,
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
        self.health_alarms = self._health_alarms(stage) if stage is not None else {}

    def _health_alarms(self, stage: str) -> dict[str, cloudwatch.Alarm]:
        """An alarm per health check to the ops topic of this region (the primary's regional stack's).

        Route 53 publishes health-check metrics in us-east-1 only, so the alarms (and the topic they
        notify) must be there: this stack's region, the primary one.
        """
        if self.region != HEALTH_CHECK_METRICS_REGION:
            raise ValueError(
                f"Route 53 health-check metrics exist only in {HEALTH_CHECK_METRICS_REGION}; the global stack is "
                f"in {self.region}: its health-check alarms would never see a data point"
            )
        topic = sns.Topic.from_topic_arn(
            self,
            "OpsTopic",
            self.format_arn(service="sns", resource=ops_topic_name(stage), arn_format=ArnFormat.NO_RESOURCE_NAME),
        )
        alarms = {}
        for role, (region, health_check) in zip(ROLES, self.health_checks.items(), strict=True):
            alarm = cloudwatch.Alarm(
                self,
                f"{role.capitalize()}HealthAlarm",
                alarm_name=f"dogwalk-{stage}-route53-health-{region}",
                alarm_description=(
                    f"Route 53 finds {region}'s /v1/health unhealthy (2 minutes in a row): "
                    f"{'clients fail over to the secondary region' if role == 'PRIMARY' else 'no failover target'}"
                ),
                metric=cloudwatch.Metric(
                    namespace="AWS/Route53",
                    metric_name="HealthCheckStatus",
                    dimensions_map={"HealthCheckId": health_check.attr_health_check_id},
                    statistic="Minimum",
                    period=Duration.minutes(1),
                    region=HEALTH_CHECK_METRICS_REGION,
                ),
                threshold=1,
                comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
                evaluation_periods=2,
                # a health check always reports: no data is a problem too
                treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
            )
            alarm.add_alarm_action(actions.SnsAction(topic))
            alarms[region] = alarm
        return alarms

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
        stage=deployment.stage,
        env=Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=deployment.primary_region),
        description=f"DogWalk platform, {deployment.stage}, global: Route 53 health checks and failover records",
    )
    for stack_in_region in regional:
        stack.add_stack_dependency(stack_in_region, "the failover records alias the regional records")
    return stack
