"""The regional stack: composes the platform's constructs from the registry's declarations."""

from __future__ import annotations

import os
from collections.abc import Sequence, Set
from typing import Any

from aws_cdk import App, CfnOutput, Environment, Stack, Tags
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from dogwalk import registry
from dogwalk.config import environment_names
from infra.alarms import OperationsAlarms
from infra.api import Api, ApiRoutes
from infra.auth.signing_keys import SigningKeys
from infra.canary import CanaryDeployments, live_alias
from infra.care.home_access import HomeAccessKey
from infra.data import DataTier
from infra.deployment import Deployment
from infra.edge import API, Edge, EdgeSettings
from infra.encryption import EncryptionKeys
from infra.environments import apply_environment
from infra.functions import FunctionFactory, pascal_case
from infra.notifications.fanout import Notifications
from infra.observability import Observability, SavedQueries, api_server_error_alarm_name
from infra.operations.migrations import Migrations, code_fingerprint
from infra.operations.synthetics import ApiCanary
from infra.payments.secret import PaymentsSecret
from infra.queues import Queues
from infra.schedules import ScheduledJobs
from infra.tracking.iot import DeviceAuthentication
from infra.tracking.photos import WalkPhotoStore
from infra.tracking.websocket import LiveUpdates

# services whose functions live in a nested stack of their own (infra/functions.py: ServiceFunctions):
# the regional stack takes about three resources per function it holds and CloudFormation 500 a
# template (tests/infra/test_stack_limits.py holds it to 450). New services start here; moving a
# deployed service in replaces its functions and log groups, so that is a decision of its own.
# messages and care (issue 15) have never been deployed: nesting them replaces nothing deployed.
NESTED_SERVICES: frozenset[str] = frozenset({"messages", "care"})


class RegionalStack(Stack):
    """The whole platform in one region.

    The declarations default to the registry's; tests pass their own to cover each kind apart
    from the registry's contents. A stack without WebSocket routes has no WebSocket API (and may
    then have no function that pushes); one without a device authorizer has no IoT endpoint.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        deployment: Deployment,
        endpoints: Sequence[registry.Endpoint] = registry.ENDPOINTS,
        authorizer: registry.Function = registry.AUTHORIZER,
        migrator: registry.Function = registry.MIGRATOR,
        schedules: Sequence[registry.Schedule] = registry.SCHEDULES,
        queue_consumers: Sequence[registry.QueueConsumer] = registry.QUEUE_CONSUMERS,
        topic_rules: Sequence[registry.TopicRule] = registry.TOPIC_RULES,
        websocket_routes: Sequence[registry.WebSocketRoute] = registry.WEBSOCKET_ROUTES,
        device_authorizer: registry.Function | None = registry.DEVICE_AUTHORIZER,
        restore_validator: registry.Function | None = registry.RESTORE_VALIDATOR,
        edge: EdgeSettings | None = None,
        nested_services: Set[str] = NESTED_SERVICES,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        # the customer managed keys of the queues, the log groups and the secrets (infra/encryption.py)
        self.keys = EncryptionKeys(self, "Keys", stage=deployment.stage)
        signing_keys = SigningKeys(self, "SigningKeys", stage=deployment.stage, key=self.keys.secrets)
        payments = PaymentsSecret(self, "Payments", stage=deployment.stage, key=self.keys.secrets)
        # the owners' home access: a multi-Region key of its own, for the functions that declare HOME_ACCESS
        self.home_access = HomeAccessKey(
            self, "HomeAccess", stage=deployment.stage, is_primary=self.region == deployment.primary_region
        )
        # the walk photo bucket (and its key and access logs), for the functions that declare PHOTOS_*
        self.photos = WalkPhotoStore(self, "WalkPhotos", stage=deployment.stage)
        # before the functions: those that push need its management URL in their environment
        self.websocket = (
            LiveUpdates(self, "WebSocket", deployment=deployment, log_key=self.keys.logs) if websocket_routes else None
        )
        # before the functions too: those that publish or notify need the topic and the sender
        self.notifications = Notifications(self, "Notifications", deployment=deployment)
        self.alarms = OperationsAlarms(self, "Alarms", stage=deployment.stage)
        # network, Aurora, RDS Proxy, Valkey and backups: one nested stack (one resource here)
        self.data = DataTier(self, "Data", deployment=deployment, is_primary=self.region == deployment.primary_region)
        factory = FunctionFactory(
            self,
            "Functions",
            deployment=deployment,
            signing_keys=signing_keys,
            payments=payments,
            log_key=self.keys.logs,
            websocket=self.websocket,
            notifications=self.notifications,
            data=self.data,
            nested_services=nested_services,
            home_access=self.home_access,
            photos=self.photos,
        )
        self.migrations = Migrations(
            self,
            "Migrations",
            migrator=factory.create(migrator),
            log_retention=deployment.log_retention,
            log_key=self.keys.logs,
        )

        def after_migrations(declaration: registry.Function) -> lambda_.Function:
            function = factory.create(declaration)
            function.node.add_dependency(self.migrations.resource)
            return function

        code = code_fingerprint()

        def invoked(declaration: registry.Function) -> lambda_.IFunction:
            """What its caller invokes: for a function that starts from a snapshot, its `live` alias on
            the version SnapStart snapshots (switched at once: only endpoints go through canaries, and
            the token authorizer's refusals are function errors, which would roll a canary back)."""
            function = after_migrations(declaration)
            return (
                live_alias(self, pascal_case(declaration.name), function, code) if declaration.snap_start else function
            )

        self.functions: dict[str, lambda_.Function] = {
            endpoint.name: after_migrations(endpoint) for endpoint in endpoints
        }
        # API Gateway rejects an authorizer that no method uses
        needs_authorizer = any(not endpoint.public for endpoint in endpoints)
        authorizer_function = invoked(authorizer) if needs_authorizer else None
        # the API invokes each endpoint function's `live` alias, which CodeDeploy shifts (a nested stack;
        # the endpoints of a nested service in one of their own: infra/functions.py ServiceFunctions)
        by_service: dict[str | None, dict[str, lambda_.Function]] = {}
        for endpoint in endpoints:
            service = endpoint.service if endpoint.service in nested_services else None
            by_service.setdefault(service, {})[endpoint.name] = self.functions[endpoint.name]
        self.canaries: list[CanaryDeployments] = [
            CanaryDeployments(
                self,
                "Canary" if service is None else f"Canary{pascal_case(service)}",
                stage=deployment.stage,
                functions=functions,
                api_server_error_alarm_name=api_server_error_alarm_name(self.alarms.alarm_name_prefix),
                service=service,
            )
            for service, functions in sorted(by_service.items(), key=lambda item: item[0] or "")
        ]
        self.canary = next((canary for canary in self.canaries if canary.node.id == "Canary"), None)
        aliases = {name: alias for canary in self.canaries for name, alias in canary.aliases.items()}
        if endpoints:
            self.api: Api | None = Api(self, "Api", deployment=deployment, log_key=self.keys.logs)
            # its resources, methods, permissions and authorizer: a nested stack (infra/api.py)
            self.api_routes: ApiRoutes | None = ApiRoutes(
                self,
                "ApiRoutes",
                api=self.api,
                endpoints=endpoints,
                functions=aliases or self.functions,
                authorizer=authorizer_function,
            )
        else:
            self.api = None
            self.api_routes = None
        ScheduledJobs(self, "Schedules", jobs=[(job, after_migrations(job)) for job in schedules])
        if restore_validator is not None:
            # checks each monthly restore test of the Aurora cluster (infra/backups.py); its rule only
            # where the cluster is backed up (the primary region)
            validator = after_migrations(restore_validator)
            validator.add_environment(environment_names()["database_secret_id"], self.data.secret_name)
            self.data.backups.validate_restores_with(self, validator, self.data.secret)
        self.queues = Queues(
            self,
            "Queues",
            stage=deployment.stage,
            key=self.keys.queues,
            consumers=[(consumer, after_migrations(consumer)) for consumer in queue_consumers],
            topic_rules=topic_rules,
        )
        self.notifications.subscribe(queue_consumers, self.queues.queues)
        if registry.WALK_PHOTOS_QUEUE in self.queues.queues:  # uploads → the photo check's queue
            self.photos.notify(self.queues.queues[registry.WALK_PHOTOS_QUEUE], self.keys.queues)
        for queue_name, dead_letters in self.queues.dead_letter_queues.items():
            self.alarms.on_dead_letters(queue_name, dead_letters)
        if self.websocket is not None:
            self.websocket.add_routes(websocket_routes, {route.name: invoked(route) for route in websocket_routes})
            CfnOutput(
                self,
                "WebSocketUrl",
                value=self.websocket.url,
                description="The live view's execute-api URL; apps use wss://ws.<domain>/v1/ws?token=<access token>",
            )
            # API Gateway writes a WebSocket stage's logs with the account's CloudWatch role, which
            # the REST API sets (AWS::ApiGateway::Account): the stage must not be created before it
            account = self.api.rest_api.node.try_find_child("Account") if self.api is not None else None
            if account is not None:
                self.websocket.stage.node.add_dependency(account)
        if device_authorizer is not None:
            self.devices: DeviceAuthentication | None = DeviceAuthentication(
                self, "Devices", stage=deployment.stage, function=invoked(device_authorizer)
            )
            CfnOutput(
                self,
                "DeviceDomainConfigurationName",
                value=self.devices.domain_configuration_name,
                description="Walker phones' MQTT endpoint (aws iot describe-domain-configuration gives its hostname)",
            )
        else:
            self.devices = None
        # custom domains, regional DNS names and WAF, in a nested stack (infra/edge.py)
        self.edge = (
            Edge(
                self,
                "Edge",
                settings=edge,
                stage=deployment.stage,
                log_retention=deployment.log_retention,
                log_key=self.keys.logs,
                rest_api=self.api.rest_api,
                websocket=self.websocket,
                device_authorizer_name=self.devices.authorizer.ref if self.devices is not None else None,
            )
            if edge is not None and self.api is not None
            else None
        )
        # last: the dashboard finds the database wherever it is; nested stacks (infra/observability.py)
        self.observability = Observability(
            self,
            "Observability",
            stage=deployment.stage,
            functions=factory.created,
            api_name=self.api.rest_api.rest_api_name if self.api is not None else None,
            queues=self.queues.queues,
            dead_letter_queues=self.queues.dead_letter_queues,
            topic=self.alarms.topic,
            alarm_name_prefix=self.alarms.alarm_name_prefix,
            api_access_logs=self.api.access_logs if self.api is not None else None,
        )
        # the functions' log groups: a stack of their own, so that neither takes two parameters per function
        self.queries = SavedQueries(
            self,
            "Queries",
            stage=deployment.stage,
            functions=factory.created,
            api_access_logs=self.api.access_logs if self.api is not None else None,
        )
        # the API watched from outside, every minute, on the name the Route 53 health check probes
        # (infra/operations/synthetics.py)
        self.synthetics = (
            ApiCanary(
                self,
                "Synthetics",
                stage=deployment.stage,
                base_url=(
                    f"https://{edge.regional_name(API, self.region)}" if edge is not None else self.api.rest_api.url
                ),
                topic=self.alarms.topic,
                alarm_name_prefix=self.alarms.alarm_name_prefix,
            )
            if self.api is not None
            else None
        )
        for canary in self.canaries:  # their rollback alarms include the API's 5xx alarm
            canary.add_dependency(self.observability)


def regional_stacks(app: App) -> list[RegionalStack]:
    """The app's stacks: the platform in the primary and in the secondary region."""
    apply_environment(app)
    deployment = Deployment.from_context(app.node)
    Tags.of(app).add("project", "dogwalk")
    Tags.of(app).add("stage", deployment.stage)
    # env-agnostic account: synth works without credentials; the CLI fills it in at deploy
    account = os.environ.get("CDK_DEFAULT_ACCOUNT")
    return [
        RegionalStack(
            app,
            f"DogWalk-{deployment.stage}-{role}",
            deployment=deployment,
            edge=EdgeSettings.from_context(app.node),
            env=Environment(account=account, region=region),
            description=f"DogWalk platform, {deployment.stage}, {role} region ({region})",
        )
        for role, region in zip(("primary", "secondary"), deployment.regions, strict=True)
    ]
