"""The regional network: a VPC whose functions reach AWS through endpoints and the internet only through NAT.

What the functions call, and how they reach it from private subnets:

- PostgreSQL (RDS Proxy, 5432) and Valkey (ElastiCache Serverless, 6379): in the VPC.
- Secrets Manager (signing keys, the payment secret; the database secret's hosted rotation function):
  interface endpoint.
- SNS (the outbox relay publishes domain events; push notifications): interface endpoint.
- SES (`sesv2`: notification emails): the `email` interface endpoint (the SESv2 API, not SMTP).
- X-Ray (active tracing; the SDK's sampling rules): interface endpoint.
- S3: gateway endpoint (free; AWS's own tooling in the functions, e.g. the rotation function, may use it).

Not needed: SQS (Lambda's event source mappings poll the queues, no function sends), KMS (SQS, SNS
and Secrets Manager call KMS themselves), CloudWatch Logs (Lambda ships the logs outside the VPC),
STS (Lambda gives the role's credentials), RDS and ElastiCache APIs (their IAM auth tokens are
signed locally). Two kinds of callee are on the internet: Stripe (functions declaring PAYMENTS)
and the WebSocket API's `@connections` management endpoint (functions declaring WEBSOCKET_PUSH):
API Gateway's `execute-api` interface endpoint serves private APIs only, and with private DNS on
it would take every `*.execute-api` name in the VPC. Those functions, and only those, run in
subnets with a route to NAT gateways (one per AZ in prod, one in the other stages; context
`nat_gateways`); every other function runs in isolated subnets without any route out.
"""

from __future__ import annotations

from aws_cdk import ArnFormat, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

POSTGRES_PORT = 5432
VALKEY_PORT = 6379
HTTPS_PORT = 443

INTERFACE_ENDPOINTS = {
    "SecretsManager": ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
    "Sns": ec2.InterfaceVpcEndpointAwsService.SNS,
    "Email": ec2.InterfaceVpcEndpointAwsService.EMAIL,
    "XRay": ec2.InterfaceVpcEndpointAwsService.XRAY,
}


def security_group(scope: Construct, construct_id: str, description: str, vpc: ec2.IVpc) -> ec2.SecurityGroup:
    """A security group with nothing in and nothing out until rules say otherwise."""
    return ec2.SecurityGroup(scope, construct_id, vpc=vpc, description=description, allow_all_outbound=False)


class Network(Construct):
    """The VPC (2 AZs: isolated subnets for data and most functions, egress subnets behind NAT, public
    subnets holding only the NAT gateways), its endpoints, flow logs and the functions' security groups."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        key: kms.IKey,
        nat_gateways: int,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, construct_id)
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr("10.40.0.0/16"),
            max_azs=2,
            nat_gateways=nat_gateways,
            subnet_configuration=[
                # the NAT gateways only: nothing else is placed here
                ec2.SubnetConfiguration(name="Nat", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=26),
                ec2.SubnetConfiguration(name="Egress", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=22),
                ec2.SubnetConfiguration(name="Isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=22),
            ],
            restrict_default_security_group=False,
        )
        # nothing uses the default security group; restricting it would take CDK's custom resource
        # (one more Lambda outside the VPC) for a group that no resource here is placed in
        flow_logs = logs.LogGroup(
            self, "FlowLogs", retention=log_retention, encryption_key=key, removal_policy=RemovalPolicy.DESTROY
        )
        region = Stack.of(self).region
        key.add_to_resource_policy(
            iam.PolicyStatement(
                actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                principals=[iam.ServicePrincipal(f"logs.{region}.amazonaws.com")],
                resources=["*"],
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": Stack.of(self).format_arn(
                            service="logs",
                            resource="log-group",
                            resource_name="*",
                            arn_format=ArnFormat.COLON_RESOURCE_NAME,
                        )
                    }
                },
            )
        )
        self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )
        self.isolated = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        self.egress = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)

        # functions that reach only the VPC (data stores, endpoints) ...
        self.functions = security_group(self, "Functions", "DogWalk functions without internet access", self.vpc)
        # ... and those that also call Stripe or the WebSocket management API over the internet
        self.internet_functions = security_group(
            self, "InternetFunctions", "DogWalk functions that call Stripe or the WebSocket management API", self.vpc
        )
        self.internet_functions.add_egress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(HTTPS_PORT), "HTTPS to Stripe and the WebSocket management API"
        )
        self.endpoints = security_group(self, "Endpoints", "Interface endpoints of AWS services", self.vpc)
        for name, service in INTERFACE_ENDPOINTS.items():
            self.vpc.add_interface_endpoint(
                name, service=service, subnets=self.isolated, security_groups=[self.endpoints], open=False
            )
        self.vpc.add_gateway_endpoint("S3", service=ec2.GatewayVpcEndpointAwsService.S3)
        for group in (self.functions, self.internet_functions):
            self.allow_https_to_endpoints(group)

    @property
    def function_groups(self) -> tuple[ec2.SecurityGroup, ec2.SecurityGroup]:
        return (self.functions, self.internet_functions)

    def allow_https_to_endpoints(self, group: ec2.SecurityGroup) -> None:
        group.connections.allow_to(self.endpoints, ec2.Port.tcp(HTTPS_PORT), "HTTPS to the AWS service endpoints")
