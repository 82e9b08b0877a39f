"""The function factory: every Lambda of the platform is built here the same way."""

from __future__ import annotations

import re
from collections.abc import Set
from typing import TYPE_CHECKING

from aws_cdk import Duration, NestedStack, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from dogwalk import registry
from dogwalk.config import environment_names
from infra.auth.signing_keys import SigningKeys
from infra.bundling import TASK_ROOT, dependencies_layer_code, source_code
from infra.compliance import acknowledge
from infra.deployment import Deployment
from infra.payments.secret import PaymentsSecret
from infra.sources import CORE_LAYER_DIR, FUNCTIONS_DIR

if TYPE_CHECKING:
    from infra.care.home_access import HomeAccessKey
    from infra.data import DataTier
    from infra.notifications.fanout import Notifications
    from infra.tracking.photos import WalkPhotoStore
    from infra.tracking.websocket import LiveUpdates

RUNTIME = lambda_.Runtime.PYTHON_3_12
ARCHITECTURE = lambda_.Architecture.ARM_64
BASIC_EXECUTION_ROLE = "arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
POWERTOOLS_ENVIRONMENT = {"POWERTOOLS_SERVICE_NAME": "dogwalk", "POWERTOOLS_METRICS_NAMESPACE": "DogWalk"}


class FunctionRole(iam.Role):
    """A function's execution role whose grants are one inline policy of the role itself.

    CDK otherwise adds an `AWS::IAM::Policy` resource next to every role (its default policy):
    one per function, about 70 resources out of CloudFormation's 500 per stack. The statements,
    and so the permissions, are the same; they are only written into the role.
    """

    def __init__(self, scope: Construct, construct_id: str, *, description: str) -> None:
        self._grants = iam.PolicyDocument()
        super().__init__(
            scope,
            construct_id,
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=description,
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name("service-role/AWSLambdaBasicExecutionRole")
            ],
            # resolved at synth: every statement added until then is in it (tracing always adds one)
            inline_policies={"Grants": self._grants},
        )

    def add_to_principal_policy(self, statement: iam.PolicyStatement) -> iam.AddToPrincipalPolicyResult:
        # every grant (CDK's own, as for queues, and the platform's) comes through here
        self._grants.add_statements(statement)
        return iam.AddToPrincipalPolicyResult(statement_added=True, policy_dependable=self)


def role_of(function: lambda_.Function) -> iam.IRole:
    """The function's execution role: where IAM findings about its grants are acknowledged."""
    if function.role is None:
        raise ValueError(f"{function.node.path} has no execution role")
    return function.role


def pascal_case(name: str) -> str:
    """`get_health` → `GetHealth` (and `walk-messages` → `WalkMessages`), for construct ids from registry names."""
    return "".join(part.capitalize() for part in re.split(r"[_-]", name))


class ServiceFunctions(NestedStack):
    """The functions of one service (with their roles, log groups, permissions and event source mappings).

    CloudFormation takes 500 resources a template, and each function brings about three to the
    regional stack (function, role, log group): a service listed in `nested_services` keeps its
    functions here instead, one `AWS::CloudFormation::Stack` in the regional stack. Moving a deployed
    function in or out replaces it (and its log group): meant for new services, or as a decision.
    """

    def __init__(self, scope: Construct, construct_id: str, *, service: str, stage: str) -> None:
        super().__init__(scope, construct_id, description=f"dogwalk {stage}: the {service} service's functions")
        # an asset belongs to one stack: the same files, staged once, published once
        self.code = source_code(self, FUNCTIONS_DIR, TASK_ROOT)


class FunctionFactory(Construct):
    """Owns the two layers and the code asset; `create` turns a registry declaration into a Lambda.

    The functions of the services in `nested_services` go to a nested stack per service
    (`ServiceFunctions`); every other function is made in the regional stack.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        deployment: Deployment,
        signing_keys: SigningKeys,
        payments: PaymentsSecret,
        log_key: kms.IKey,
        websocket: LiveUpdates | None = None,
        notifications: Notifications | None = None,
        data: DataTier | None = None,
        nested_services: Set[str] = frozenset(),
        home_access: HomeAccessKey | None = None,
        photos: WalkPhotoStore | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.data = data
        self.home_access = home_access
        self.photos = photos
        self.nested_services = frozenset(nested_services)
        self.service_stacks: dict[str, ServiceFunctions] = {}
        self.deployment = deployment
        self.signing_keys = signing_keys
        self.payments = payments
        # the region's `logs` key (infra/encryption.py): one key policy covers every function's log group
        self.log_key = log_key
        self.websocket = websocket
        self.notifications = notifications
        self.dependencies_layer = lambda_.LayerVersion(
            self,
            "DependenciesLayer",
            code=dependencies_layer_code(self),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="Third-party packages from requirements.txt (without boto3)",
        )
        self.core_layer = lambda_.LayerVersion(
            self,
            "CoreLayer",
            code=source_code(self, CORE_LAYER_DIR, "/opt"),  # the layer's python/ is /opt/python
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="The dogwalk package: configuration, adapters and domain logic",
        )
        # one asset for every handler module: each function differs only by its handler
        self.code = source_code(self, FUNCTIONS_DIR, TASK_ROOT)
        # every function made here, by registry name, with its declaration (dashboards, alarms, queries)
        self.created: dict[str, tuple[registry.Function, lambda_.Function]] = {}

    def environment(self, declaration: registry.Function) -> dict[str, str]:
        """Settings every function needs, plus the endpoints of the adapters it declares."""
        names = environment_names()
        environment = {names["stage"]: self.deployment.stage, **POWERTOOLS_ENVIRONMENT}
        if registry.DATABASE in declaration.uses:
            environment[names["database_url"]] = self.deployment.database_url
        if registry.CACHE in declaration.uses:
            environment[names["redis_url"]] = self.deployment.redis_url
        if self.data is not None:  # the region's RDS Proxy and cache instead of the context's URLs
            environment.update(self.data.function_environment(declaration.uses))
        if self.signing_keys.used_by(declaration.uses):
            environment[names["signing_key_secret_id"]] = self.signing_keys.secret_name
        if self.payments.used_by(declaration.uses):
            environment[names["payments_secret_id"]] = self.payments.secret_name
        if registry.IDENTITY_PROVIDERS in declaration.uses:
            environment[names["oidc_apple_client_ids"]] = self.deployment.oidc_apple_client_ids
            environment[names["oidc_google_client_ids"]] = self.deployment.oidc_google_client_ids
        if self.home_access is not None:
            environment.update(self.home_access.environment(declaration.uses))
        elif registry.HOME_ACCESS in declaration.uses:
            raise ValueError(f"{declaration.name} seals or opens home access but the stack has no home-access key")
        if self.photos is not None:
            environment.update(self.photos.environment(declaration.uses))
        elif declaration.uses & {registry.PHOTOS_UPLOAD, registry.PHOTOS_READ, registry.PHOTOS_CHECK}:
            raise ValueError(f"{declaration.name} uses walk photos but the stack has no photo bucket")
        if registry.WEBSOCKET_PUSH in declaration.uses:
            if self.websocket is None:
                raise ValueError(f"{declaration.name} pushes to WebSocket clients but the stack has no WebSocket API")
            environment[names["websocket_management_url"]] = self.websocket.management_url
        if self.notifications is not None:
            environment.update(self.notifications.environment(declaration.uses))
        elif self.notifications_used_by(declaration.uses):
            raise ValueError(f"{declaration.name} publishes events or notifies but the stack has no notifications")
        return environment

    @staticmethod
    def notifications_used_by(uses: Set[str]) -> bool:
        return bool(uses & {registry.EVENTS, registry.NOTIFY})

    def service_stack(self, service: str) -> ServiceFunctions | None:
        """The nested stack of `service`'s functions, when it is one of `nested_services`."""
        if service not in self.nested_services:
            return None
        if service not in self.service_stacks:
            self.service_stacks[service] = ServiceFunctions(
                self, pascal_case(service), service=service, stage=self.deployment.stage
            )
        return self.service_stacks[service]

    def create(self, declaration: registry.Function) -> lambda_.Function:
        construct_id = pascal_case(declaration.name)
        nested = self.service_stack(declaration.service)
        scope: Construct = nested if nested is not None else self
        # an explicit log group so that retention is set by CloudFormation, not by a helper Lambda
        log_group = logs.LogGroup(
            scope,
            f"{construct_id}Logs",
            retention=self.deployment.log_retention,
            encryption_key=self.log_key,
            removal_policy=RemovalPolicy.DESTROY,
        )
        role = FunctionRole(scope, f"{construct_id}Role", description=f"Execution role of dogwalk {declaration.name}")
        function = lambda_.Function(
            scope,
            construct_id,
            description=f"dogwalk {declaration.name}",
            role=role,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=declaration.handler,
            code=nested.code if nested is not None else self.code,
            layers=[self.dependencies_layer, self.core_layer],
            memory_size=declaration.memory_mb,
            timeout=Duration.seconds(declaration.timeout_s),
            tracing=lambda_.Tracing.ACTIVE,
            logging_format=lambda_.LoggingFormat.JSON,
            log_group=log_group,
            environment=self.environment(declaration),
            # what declares `snap_start` (the endpoints, what else someone waits for) starts from a snapshot
            # taken after its init (its `live` alias serves published versions): dogwalk/adapters/snapstart.py
            snap_start=lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS if declaration.snap_start else None,
            **(self.data.placement(declaration.uses) if self.data is not None else {}),
        )
        if self.data is not None:
            self.data.grant(function, declaration.uses)
        self.signing_keys.grant(function, declaration.uses)
        self.payments.grant(function, declaration.uses)
        if self.home_access is not None:
            self.home_access.grant(function, declaration.uses)
        if self.photos is not None:
            self.photos.grant(function, declaration.uses)
        if self.websocket is not None:
            self.websocket.grant(function, declaration.uses)
        if self.notifications is not None:
            self.notifications.grant(function, declaration.uses)
        acknowledge(
            role,
            f"IAM4[Policy::{BASIC_EXECUTION_ROLE}]",
            "AWS's minimal Lambda logging policy (CreateLogGroup/CreateLogStream/PutLogEvents) that CDK attaches",
        )
        wildcards = ["xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions"]
        if self.notifications is not None:
            wildcards += self.notifications.wildcard_reasons(declaration.uses)
        acknowledge(role, "IAM5[Resource::*]", "; ".join(wildcards))
        acknowledge(function, "L1", "Python 3.12 is the platform's chosen runtime: the layer is built for it")
        self.created[declaration.name] = (declaration, function)
        return function
