"""How walker phones reach AWS IoT Core: the custom authorizer and the endpoint that applies it."""

from __future__ import annotations

import re

from aws_cdk import aws_iam as iam
from aws_cdk import aws_iot as iot
from aws_cdk import aws_lambda as lambda_
from constructs import Construct


def iot_name(*parts: str) -> str:
    """IoT names allow letters, digits, `_`, `-` (and a few others): `dogwalk_dev_devices`."""
    return re.sub(r"[^\w-]", "_", "_".join(parts))


class DeviceAuthentication(Construct):
    """The IoT custom authorizer (`authorize_device`) and an AWS-managed data endpoint that uses it.

    A phone connects with MQTT over TLS, its access token as the MQTT password (the username is
    not checked). `authorize_device` answers with an IoT policy that lets it publish only to the
    walks of its own in-progress bookings.

    Phones must connect to this domain configuration's endpoint, not to the account's default
    `iot:Data-ATS` one (which knows no default authorizer). CloudFormation does not return the
    hostname AWS assigns it: read it once per region with
    `aws iot describe-domain-configuration --domain-configuration-name <DeviceDomainConfigurationName output>`
    (`domainName`). A custom domain with its ACM certificate is a later issue.
    """

    def __init__(self, scope: Construct, construct_id: str, *, stage: str, function: lambda_.IFunction) -> None:
        super().__init__(scope, construct_id)
        self.authorizer = iot.CfnAuthorizer(
            self,
            "Authorizer",
            authorizer_name=iot_name("dogwalk", stage, "devices"),
            authorizer_function_arn=function.function_arn,
            # the token is an ES256 JWT the function verifies; IoT's own token signing is not used
            signing_disabled=True,
            status="ACTIVE",
            # MQTT connections are authorized once per connection; HTTP publishing is not offered
            enable_caching_for_http=False,
        )
        # IoT may invoke the function on behalf of this authorizer only
        function.add_permission(
            "IotAuthorizerInvoke",
            principal=iam.ServicePrincipal("iot.amazonaws.com"),
            action="lambda:InvokeFunction",
            source_arn=self.authorizer.attr_arn,
        )
        self.domain_configuration = iot.CfnDomainConfiguration(
            self,
            "Endpoint",
            # no DomainName: an AWS-managed domain (…iot.{region}.amazonaws.com), no certificate to manage
            domain_configuration_name=iot_name("dogwalk", stage, "devices"),
            service_type="DATA",
            # MQTT over TLS with our authorizer only (no X.509 or SigV4 clients here): phones connect on
            # port 443 with the TLS ALPN protocol `mqtt`, as AWS documents custom authentication (8883 is
            # documented for X.509 client certificates only); the authorizer is this domain's default, so
            # no authorizer name goes in the username
            authentication_type="CUSTOM_AUTH",
            application_protocol="SECURE_MQTT",
            authorizer_config=iot.CfnDomainConfiguration.AuthorizerConfigProperty(
                default_authorizer_name=self.authorizer.ref,
                allow_authorizer_override=False,
            ),
            # TLS 1.3 preferred, 1.2 the oldest accepted (the default for new configurations, made explicit)
            tls_config=iot.CfnDomainConfiguration.TlsConfigProperty(
                security_policy="IoTSecurityPolicy_TLS13_1_2_2022_10"
            ),
            domain_configuration_status="ENABLED",
        )
        # the name to describe for the MQTT hostname (the stack's `DeviceDomainConfigurationName` output)
        self.domain_configuration_name = self.domain_configuration.ref
