"""Walker phones authenticate to AWS IoT Core through `authorize_device`, on an endpoint that allows nothing else."""

from __future__ import annotations

import pytest
from stack_template import StackTemplate, referenced_ids

from dogwalk import registry
from infra.deployment import Deployment

pytestmark = pytest.mark.infra

AUTHORIZER = "AWS::IoT::Authorizer"
DOMAIN = "AWS::IoT::DomainConfiguration"


def test_the_custom_authorizer_calls_authorize_device_without_token_signing(
    regional: list[StackTemplate], synthesized_deployment: Deployment
) -> None:
    for template in regional:
        _, authorizer = template.only(AUTHORIZER)
        properties = authorizer["Properties"]
        # its `live` alias: the version SnapStart snapshots
        alias = template.live_alias(registry.DEVICE_AUTHORIZER.name)
        assert properties["AuthorizerFunctionArn"] == {"Ref": alias}
        assert properties["AuthorizerName"] == f"dogwalk_{synthesized_deployment.stage}_devices"
        assert properties["SigningDisabled"] is True
        assert properties["Status"] == "ACTIVE"
        assert properties["EnableCachingForHttp"] is False


def test_iot_may_invoke_authorize_device_for_this_authorizer_only(regional: list[StackTemplate]) -> None:
    for template in regional:
        authorizer_id, _ = template.only(AUTHORIZER)
        alias = template.live_alias(registry.DEVICE_AUTHORIZER.name)
        permissions = [
            permission["Properties"]
            for permission in template.of_type("AWS::Lambda::Permission").values()
            if referenced_ids(permission["Properties"]["FunctionName"]) == {alias}
        ]
        [permission] = permissions
        assert permission["Principal"] == "iot.amazonaws.com"
        assert permission["Action"] == "lambda:InvokeFunction"
        assert permission["SourceArn"] == {"Fn::GetAtt": [authorizer_id, "Arn"]}


def test_no_other_function_may_be_invoked_by_iot(primary: StackTemplate) -> None:
    alias = primary.live_alias(registry.DEVICE_AUTHORIZER.name)
    for permission in primary.of_type("AWS::Lambda::Permission").values():
        if permission["Properties"]["Principal"] == "iot.amazonaws.com":
            assert referenced_ids(permission["Properties"]["FunctionName"]) == {alias}


def test_the_phones_endpoint_uses_the_authorizer_and_no_other(
    regional: list[StackTemplate], synthesized_deployment: Deployment
) -> None:
    for template in regional:
        authorizer_id, _ = template.only(AUTHORIZER)
        _, domain = template.only(DOMAIN)
        properties = domain["Properties"]
        assert properties["ServiceType"] == "DATA"
        assert properties["AuthorizerConfig"] == {
            "DefaultAuthorizerName": {"Ref": authorizer_id},
            "AllowAuthorizerOverride": False,
        }
        assert properties["AuthenticationType"] == "CUSTOM_AUTH"
        assert properties["ApplicationProtocol"] == "SECURE_MQTT"
        assert properties["DomainConfigurationStatus"] == "ENABLED"
        assert properties["DomainConfigurationName"] == f"dogwalk_{synthesized_deployment.stage}_devices"
        # an AWS-managed domain: no domain name, no certificate
        assert not {"DomainName", "ServerCertificateArns", "ValidationCertificateArn"} & set(properties)


def test_the_endpoint_name_is_an_output(primary: StackTemplate) -> None:
    domain_id, _ = primary.only(DOMAIN)
    assert primary.template["Outputs"]["DeviceDomainConfigurationName"]["Value"] == {"Ref": domain_id}


def test_authorize_device_reads_the_signing_keys_and_nothing_else(primary: StackTemplate) -> None:
    function = primary.python_functions()[registry.DEVICE_AUTHORIZER.name]
    signing_keys = primary.secret("jwt-signing-keys")
    granted: set[str] = set()
    for statement in primary.statements_of(function):
        listed = statement["Action"]
        actions = {listed} if isinstance(listed, str) else set(listed)
        if actions <= {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}:
            continue  # active tracing, on every function
        if actions <= {"rds-db:connect", "elasticache:Connect"}:
            continue  # the data tier's IAM auth (tests/infra/test_data.py)
        if actions == {"kms:Decrypt"}:
            # the `secrets` key, through Secrets Manager (tests/infra/test_encryption.py)
            assert statement["Condition"]["StringEquals"]["kms:ViaService"].startswith("secretsmanager."), statement
            continue
        assert referenced_ids(statement["Resource"]) == {signing_keys}, statement
        granted |= actions
    assert granted == {"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}


def test_a_stack_without_a_device_authorizer_has_no_iot_endpoint(extras: StackTemplate) -> None:
    assert extras.of_type(AUTHORIZER) == {}
    assert extras.of_type(DOMAIN) == {}
    assert registry.DEVICE_AUTHORIZER.name not in extras.python_functions()
