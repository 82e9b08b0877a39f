"""The regional edge: custom domains with ACM certificates, their DNS names, and the REST API's web ACL.

A nested stack of each regional stack (the regional stack itself is close to CloudFormation's
500-resource limit). Per region it holds:

- ACM certificates, DNS-validated in the hosted zone, for `api-<region>.<domain>` + `api.<domain>`,
  `ws-<region>.<domain>` + `ws.<domain>` and `iot-<region>.<domain>` + `iot.<domain>`;
- API Gateway custom domains (regional endpoint, TLS 1.2 policy) for both names of the REST API
  (stage mapped at the root: paths carry `/v1`) and of the WebSocket API (stage `v1` mapped at
  `v1/ws`, so the live view is `wss://ws.<domain>/v1/ws?token=...`);
- IoT Core domain configurations for both IoT names (custom authorizer, TLS 1.3/1.2 policy);
- the regional records `api-<region>`, `ws-<region>` (aliases to the API Gateway domains) and
  `iot-<region>` (a CNAME to the account's `iot:Data-ATS` endpoint in this region). The global
  stack's failover records for `api.`, `ws.` and `iot.` point at these names, so nothing crosses
  regions in CloudFormation;
- the WAF web ACL on the REST API's stage (AWS managed rule groups and a rate limit per IP),
  logging to a KMS-encrypted `aws-waf-logs-…` log group.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from aws_cdk import ArnFormat, Duration, NestedStack, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_apigatewayv2 as apigatewayv2
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_iam as iam
from aws_cdk import aws_iot as iot
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53_targets as targets
from aws_cdk import aws_wafv2 as wafv2
from aws_cdk import custom_resources as cr
from constructs import Construct, IConstruct, Node

from dogwalk.edge.api import problem_body
from infra.compliance import acknowledge
from infra.tracking.iot import iot_name
from infra.tracking.websocket import LiveUpdates

API, WS, IOT = "api", "ws", "iot"
SERVICES = (API, WS, IOT)
# the WebSocket stage's mapping on its custom domain: wss://ws.<domain>/v1/ws (API.md's path)
WEBSOCKET_MAPPING_KEY = "v1/ws"
# TLS 1.3 preferred, 1.2 accepted: the newest policy that still serves phones without TLS 1.3
IOT_TLS_POLICY = "IoTSecurityPolicy_TLS13_1_2_2022_10"
# the REST domains: TLS 1.3 only; Android 10+ and iOS 12.2+ speak it (older phones cannot connect)
REST_TLS_POLICY = apigateway.SecurityPolicy.TLS13_1_3_2025_09
# API Gateway v2 (the WebSocket domains) offers TLS_1_0 and TLS_1_2 only: TLS_1_2 is the best it allows
# AWS managed rule groups on the REST API, in evaluation order after the rate limit
MANAGED_RULE_GROUPS = (
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesSQLiRuleSet",
)
RATE_LIMIT_WINDOW_S = 300
RATE_LIMITED_BODY = "rate_limited"


@dataclass(frozen=True)
class EdgeSettings:
    """The public DNS names (from the environment's context block) and the per-IP rate limit."""

    domain_name: str
    hosted_zone_id: str
    hosted_zone_name: str
    # requests one client IP may make to the REST API in five minutes before WAF answers 429
    waf_rate_limit: int

    @classmethod
    def from_context(cls, node: Node) -> EdgeSettings | None:
        """None without a `domain_name` (an app whose environment has no domain gets no edge)."""
        domain_name = node.try_get_context("domain_name")
        if not domain_name:
            return None

        def required(key: str) -> str:
            value = node.try_get_context(key)
            if value is None:
                raise ValueError(f"CDK context {key!r} is missing (needed with domain_name)")
            return str(value)

        return cls(
            domain_name=str(domain_name),
            hosted_zone_id=required("hosted_zone_id"),
            hosted_zone_name=required("hosted_zone_name"),
            waf_rate_limit=int(required("waf_rate_limit")),
        )

    def regional_name(self, service: str, region: str) -> str:
        """`api-us-east-1.<domain>`: one region's endpoint, what health checks and failover records use."""
        return f"{service}-{region}.{self.domain_name}"

    def global_name(self, service: str) -> str:
        """`api.<domain>`: what clients use; the global stack's failover records answer it."""
        return f"{service}.{self.domain_name}"

    def zone(self, scope: Construct) -> route53.IHostedZone:
        return route53.HostedZone.from_hosted_zone_attributes(
            scope, "Zone", hosted_zone_id=self.hosted_zone_id, zone_name=self.hosted_zone_name
        )


class Edge(NestedStack):
    """Custom domains, certificates, regional DNS names and the web ACL of one regional stack."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: EdgeSettings,
        stage: str,
        log_retention: logs.RetentionDays,
        log_key: kms.IKey,
        rest_api: apigateway.RestApi,
        websocket: LiveUpdates | None,
        device_authorizer_name: str | None,
    ) -> None:
        region = Stack.of(scope).region
        super().__init__(scope, construct_id, description=f"DogWalk {stage} edge in {region}: custom domains, DNS, WAF")
        self.settings = settings
        self.stage_name = stage
        self.region_name = region
        # the regional stack's `logs` key (infra/encryption.py), for the custom-resource framework's logs
        self.log_key = log_key
        self.log_retention = log_retention
        self.zone = settings.zone(self)
        self._rest_domains(rest_api)
        if websocket is not None:
            self._websocket_domains(websocket)
        if device_authorizer_name is not None:
            self._iot_domains(device_authorizer_name)
        self._web_acl(rest_api, log_retention)
        if websocket is not None:
            # the API mappings name the WebSocket stage without referencing it: create it first
            self.nested_stack_resource.node.add_dependency(websocket.stage)  # type: ignore[union-attr]

    def _certificate(self, service: str) -> acm.Certificate:
        """One certificate per service: the regional name, with the failover name as alternative."""
        return acm.Certificate(
            self,
            f"{service.capitalize()}Certificate",
            domain_name=self.settings.regional_name(service, self.region_name),
            subject_alternative_names=[self.settings.global_name(service)],
            validation=acm.CertificateValidation.from_dns(self.zone),
        )

    def _names(self, service: str) -> tuple[tuple[str, str], tuple[str, str]]:
        """(construct id prefix, name) of the regional and the failover name of a service."""
        prefix = service.capitalize()
        return (
            (f"{prefix}Regional", self.settings.regional_name(service, self.region_name)),
            (f"{prefix}Failover", self.settings.global_name(service)),
        )

    def _rest_domains(self, rest_api: apigateway.RestApi) -> None:
        certificate = self._certificate(API)
        self.rest_domains: list[apigateway.DomainName] = []
        for prefix, name in self._names(API):
            domain = apigateway.DomainName(
                self,
                f"{prefix}Domain",
                domain_name=name,
                certificate=certificate,
                endpoint_type=apigateway.EndpointType.REGIONAL,
                # TLS 1.3 only (an enhanced policy: it needs an endpoint access mode); STRICT also refuses
                # a request whose Host is not the name its TLS SNI asked for (no domain fronting)
                security_policy=REST_TLS_POLICY,
                endpoint_access_mode=apigateway.EndpointAccessMode.STRICT,
            )
            # at the root: the API's paths already start with /v1
            domain.add_base_path_mapping(rest_api, stage=rest_api.deployment_stage)
            self.rest_domains.append(domain)
        route53.ARecord(
            self,
            "ApiRegionalRecord",
            zone=self.zone,
            record_name=self.settings.regional_name(API, self.region_name),
            target=route53.RecordTarget.from_alias(targets.ApiGatewayDomain(self.rest_domains[0])),
        )

    def _websocket_domains(self, websocket: LiveUpdates) -> None:
        certificate = self._certificate(WS)
        self.websocket_domains: list[apigatewayv2.DomainName] = []
        for prefix, name in self._names(WS):
            domain = apigatewayv2.DomainName(
                self,
                f"{prefix}Domain",
                domain_name=name,
                certificate=certificate,
                endpoint_type=apigatewayv2.EndpointType.REGIONAL,
                security_policy=apigatewayv2.SecurityPolicy.TLS_1_2,
            )
            apigatewayv2.ApiMapping(
                self,
                f"{prefix}Mapping",
                api=websocket.api,
                domain_name=domain,
                stage=websocket.stage,
                api_mapping_key=WEBSOCKET_MAPPING_KEY,
            )
            self.websocket_domains.append(domain)
        regional = self.websocket_domains[0]
        route53.ARecord(
            self,
            "WsRegionalRecord",
            zone=self.zone,
            record_name=self.settings.regional_name(WS, self.region_name),
            target=route53.RecordTarget.from_alias(
                targets.ApiGatewayv2DomainProperties(regional.regional_domain_name, regional.regional_hosted_zone_id)
            ),
        )

    def _iot_domains(self, authorizer_name: str) -> None:
        certificate = self._certificate(IOT)
        for prefix, name in self._names(IOT):
            iot.CfnDomainConfiguration(
                self,
                f"{prefix}Domain",
                domain_configuration_name=iot_name(
                    "dogwalk", self.stage_name, "devices", prefix.lower().removeprefix(IOT)
                ),
                domain_name=name,
                server_certificate_arns=[certificate.certificate_arn],
                service_type="DATA",
                # as the AWS-managed endpoint (infra/devices.py): MQTT over TLS, our authorizer only
                authentication_type="CUSTOM_AUTH",
                application_protocol="SECURE_MQTT",
                authorizer_config=iot.CfnDomainConfiguration.AuthorizerConfigProperty(
                    default_authorizer_name=authorizer_name, allow_authorizer_override=False
                ),
                tls_config=iot.CfnDomainConfiguration.TlsConfigProperty(security_policy=IOT_TLS_POLICY),
                domain_configuration_status="ENABLED",
            )
        # a custom IoT domain is reached through a CNAME to the account's iot:Data-ATS endpoint,
        # which CloudFormation cannot return: DescribeEndpoint at deploy time
        endpoint = cr.AwsCustomResource(
            self,
            "IotDataEndpoint",
            on_update=cr.AwsSdkCall(
                service="Iot",
                action="describeEndpoint",
                parameters={"endpointType": "iot:Data-ATS"},
                physical_resource_id=cr.PhysicalResourceId.of(f"iot-data-ats-{self.region_name}"),
            ),
            policy=cr.AwsCustomResourcePolicy.from_sdk_calls(resources=cr.AwsCustomResourcePolicy.ANY_RESOURCE),
            install_latest_aws_sdk=False,
            # instead of the one CDK makes for the provider (no key)
            log_group=logs.LogGroup(
                self,
                "IotDataEndpointLogs",
                retention=self.log_retention,
                encryption_key=self.log_key,
                removal_policy=RemovalPolicy.DESTROY,
            ),
        )
        acknowledge(
            endpoint,
            "IAM5[Resource::*]",
            "iot:DescribeEndpoint has no resource-level permissions; it reads the account's endpoint address only",
        )
        # the provider function is a singleton of this (nested) stack, named after its UUID
        provider = self.node.try_find_child("AWS" + cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace("-", ""))
        if provider is not None:
            self._acknowledge_provider(provider)
        route53.CnameRecord(
            self,
            "IotRegionalRecord",
            zone=self.zone,
            record_name=self.settings.regional_name(IOT, self.region_name),
            domain_name=endpoint.get_response_field("endpointAddress"),
            ttl=Duration.minutes(5),
        )

    @staticmethod
    def _acknowledge_provider(provider: IConstruct) -> None:
        acknowledge(
            provider,
            "IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
            "CDK's AwsCustomResource provider (one DescribeEndpoint call per deploy) only writes its own logs",
        )
        acknowledge(provider, "L1", "CDK's AwsCustomResource provider: its runtime is chosen by aws-cdk-lib")

    def _web_acl(self, rest_api: apigateway.RestApi, log_retention: logs.RetentionDays) -> None:
        stack = Stack.of(self)
        log_group_name = f"aws-waf-logs-dogwalk-{self.stage_name}"
        log_group_arn = stack.format_arn(
            service="logs",
            resource="log-group",
            resource_name=log_group_name,
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        key = kms.Key(
            self,
            "WafLogsKey",
            description=f"DogWalk {self.stage_name}: the WAF logs of the REST API",
            enable_key_rotation=True,
        )
        key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal(f"logs.{self.region_name}.amazonaws.com")],
                actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                resources=["*"],
                conditions={"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": log_group_arn}},
            )
        )
        log_group = logs.LogGroup(
            self,
            "WafLogs",
            # WAF logs only to log groups whose name starts with aws-waf-logs-
            log_group_name=log_group_name,
            encryption_key=key,
            retention=log_retention,
            removal_policy=RemovalPolicy.DESTROY,
        )
        visibility = wafv2.CfnWebACL.VisibilityConfigProperty

        def managed(priority: int, name: str) -> wafv2.CfnWebACL.RuleProperty:
            return wafv2.CfnWebACL.RuleProperty(
                name=name,
                priority=priority,
                statement=wafv2.CfnWebACL.StatementProperty(
                    managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                        vendor_name="AWS", name=name
                    )
                ),
                override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                visibility_config=visibility(
                    cloud_watch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True
                ),
            )

        rate_limit = wafv2.CfnWebACL.RuleProperty(
            name="RateLimitPerIp",
            priority=0,
            statement=wafv2.CfnWebACL.StatementProperty(
                rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                    aggregate_key_type="IP",
                    limit=self.settings.waf_rate_limit,
                    evaluation_window_sec=RATE_LIMIT_WINDOW_S,
                )
            ),
            action=wafv2.CfnWebACL.RuleActionProperty(
                block=wafv2.CfnWebACL.BlockActionProperty(
                    custom_response=wafv2.CfnWebACL.CustomResponseProperty(
                        response_code=429,
                        custom_response_body_key=RATE_LIMITED_BODY,
                        response_headers=[wafv2.CfnWebACL.CustomHTTPHeaderProperty(name="Retry-After", value="60")],
                    )
                )
            ),
            visibility_config=visibility(
                cloud_watch_metrics_enabled=True, metric_name="RateLimitPerIp", sampled_requests_enabled=True
            ),
        )
        self.web_acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            name=f"dogwalk-{self.stage_name}-api",
            description="DogWalk REST API: AWS managed rule groups and a rate limit per client IP",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            rules=[rate_limit, *(managed(priority, name) for priority, name in enumerate(MANAGED_RULE_GROUPS, 1))],
            custom_response_bodies={
                RATE_LIMITED_BODY: wafv2.CfnWebACL.CustomResponseBodyProperty(
                    content_type="APPLICATION_JSON",
                    content=json.dumps(
                        problem_body(429, "rate_limited", "too many requests from this address", request_id="waf")
                    ),
                )
            },
            visibility_config=visibility(
                cloud_watch_metrics_enabled=True,
                metric_name=f"dogwalk-{self.stage_name}-api",
                sampled_requests_enabled=True,
            ),
        )
        wafv2.CfnWebACLAssociation(
            self,
            "WebAclAssociation",
            resource_arn=rest_api.deployment_stage.stage_arn,
            web_acl_arn=self.web_acl.attr_arn,
        )
        logging = wafv2.CfnLoggingConfiguration(
            self,
            "WebAclLogging",
            resource_arn=self.web_acl.attr_arn,
            log_destination_configs=[log_group_arn],
            # bearer tokens stay out of the logs
            redacted_fields=[
                wafv2.CfnLoggingConfiguration.FieldToMatchProperty(
                    single_header={"Name": "authorization"},
                )
            ],
        )
        logging.node.add_dependency(log_group)
