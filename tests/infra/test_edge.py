"""Each regional stack's edge (nested stack): DNS-validated certificates, TLS 1.3 REST domains, WAF."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint_file
from extra_declarations import unbundled_app
from stack_template import StackTemplate, Synthesized

from infra.drill import Template, load_templates
from infra.edge import IOT_TLS_POLICY, MANAGED_RULE_GROUPS, WEBSOCKET_MAPPING_KEY, EdgeSettings
from infra.environments import apply_environment

pytestmark = pytest.mark.infra


@pytest.fixture(scope="module")
def settings() -> EdgeSettings:
    """The edge settings of the environment the session's app synthesized (cdk.json's default)."""
    app = unbundled_app()
    apply_environment(app)
    found = EdgeSettings.from_context(app.node)
    assert found is not None, "the default environment has a domain"
    return found


class Edge:
    def __init__(self, nested: Template) -> None:
        self.region = nested.region
        self.template = StackTemplate(nested.body)
        self.file = nested.file


@pytest.fixture(scope="module")
def edges(synthesized: Synthesized) -> dict[str, Edge]:
    found = {
        template.region: Edge(template)
        for template in load_templates(synthesized.outdir)
        if template.stack in (f"{synthesized.primary}/Edge", f"{synthesized.secondary}/Edge")
    }
    assert sorted(found) == sorted(synthesized.deployment.regions)
    return found


def test_certificates_are_dns_validated_in_the_zone(edges: dict[str, Edge], settings: EdgeSettings) -> None:
    for region, edge in edges.items():
        certificates = edge.template.of_type("AWS::CertificateManager::Certificate").values()
        names: set[str] = set()
        for certificate in certificates:
            properties = certificate["Properties"]
            assert properties["ValidationMethod"] == "DNS"
            covered = {properties["DomainName"], *properties.get("SubjectAlternativeNames", [])}
            assert {option["DomainName"] for option in properties["DomainValidationOptions"]} == covered
            assert {option["HostedZoneId"] for option in properties["DomainValidationOptions"]} == {
                settings.hosted_zone_id
            }
            names |= covered
        assert names == {
            name
            for service in ("api", "ws", "iot")
            for name in (settings.regional_name(service, region), settings.global_name(service))
        }


def test_rest_custom_domains_are_regional_tls_1_3_and_map_the_stage(
    edges: dict[str, Edge], settings: EdgeSettings
) -> None:
    for region, edge in edges.items():
        domains = edge.template.of_type("AWS::ApiGateway::DomainName")
        assert {d["Properties"]["DomainName"] for d in domains.values()} == {
            settings.regional_name("api", region),
            settings.global_name("api"),
        }
        for domain in domains.values():
            properties = domain["Properties"]
            assert properties["SecurityPolicy"] == "SecurityPolicy_TLS13_1_3_2025_09"
            assert properties["EndpointAccessMode"] == "STRICT"
            assert properties["EndpointConfiguration"] == {"Types": ["REGIONAL"]}
            assert "RegionalCertificateArn" in properties
        mappings = edge.template.of_type("AWS::ApiGateway::BasePathMapping").values()
        assert {json.dumps(m["Properties"]["DomainName"]) for m in mappings} == {
            json.dumps({"Ref": logical_id}) for logical_id in domains
        }
        for mapping in mappings:
            # at the root: the API's paths carry /v1 themselves
            assert "BasePath" not in mapping["Properties"] or mapping["Properties"]["BasePath"] in ("", "(none)")
            assert "Stage" in mapping["Properties"]


def test_websocket_custom_domains_are_tls_1_2_and_map_v1_ws(edges: dict[str, Edge], settings: EdgeSettings) -> None:
    for region, edge in edges.items():
        domains = edge.template.of_type("AWS::ApiGatewayV2::DomainName")
        assert {d["Properties"]["DomainName"] for d in domains.values()} == {
            settings.regional_name("ws", region),
            settings.global_name("ws"),
        }
        for domain in domains.values():
            [configuration] = domain["Properties"]["DomainNameConfigurations"]
            assert configuration["SecurityPolicy"] == "TLS_1_2"
            assert configuration["EndpointType"] == "REGIONAL"
        mappings = edge.template.of_type("AWS::ApiGatewayV2::ApiMapping").values()
        assert len(mappings) == 2
        assert {m["Properties"]["ApiMappingKey"] for m in mappings} == {WEBSOCKET_MAPPING_KEY} == {"v1/ws"}
        assert {m["Properties"]["Stage"] for m in mappings} == {"v1"}


def test_iot_custom_domains_use_the_certificate_the_authorizer_and_tls_1_3_1_2(
    edges: dict[str, Edge], settings: EdgeSettings
) -> None:
    for region, edge in edges.items():
        configurations = edge.template.of_type("AWS::IoT::DomainConfiguration").values()
        assert {c["Properties"]["DomainName"] for c in configurations} == {
            settings.regional_name("iot", region),
            settings.global_name("iot"),
        }
        for configuration in configurations:
            properties = configuration["Properties"]
            assert properties["TlsConfig"] == {"SecurityPolicy": IOT_TLS_POLICY}
            assert properties["AuthenticationType"] == "CUSTOM_AUTH"
            assert properties["AuthorizerConfig"]["AllowAuthorizerOverride"] is False
            [certificate] = properties["ServerCertificateArns"]
            assert certificate["Ref"] in edge.template.of_type("AWS::CertificateManager::Certificate")


def test_regional_records_name_the_regional_endpoints(edges: dict[str, Edge], settings: EdgeSettings) -> None:
    for region, edge in edges.items():
        records = {
            r["Properties"]["Name"]: r["Properties"] for r in edge.template.of_type("AWS::Route53::RecordSet").values()
        }
        assert set(records) == {f"{settings.regional_name(service, region)}." for service in ("api", "ws", "iot")}
        api = records[f"{settings.regional_name('api', region)}."]
        assert api["Type"] == "A"
        assert api["AliasTarget"]["DNSName"]["Fn::GetAtt"][1] == "RegionalDomainName"
        iot = records[f"{settings.regional_name('iot', region)}."]
        assert iot["Type"] == "CNAME"
        # the account's iot:Data-ATS endpoint, read at deploy time
        [endpoint] = iot["ResourceRecords"]
        resource = edge.template.resources[endpoint["Fn::GetAtt"][0]]
        assert "iot:Data-ATS" in json.dumps(resource["Properties"])


def _rules(acl: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {rule["Name"]: rule for rule in acl["Properties"]["Rules"]}


def test_waf_protects_the_rest_stage_with_managed_groups_and_a_rate_limit(
    edges: dict[str, Edge], settings: EdgeSettings
) -> None:
    for edge in edges.values():
        acl_id, acl = edge.template.only("AWS::WAFv2::WebACL")
        assert acl["Properties"]["Scope"] == "REGIONAL"
        rules = _rules(acl)
        managed = {
            rule["Statement"]["ManagedRuleGroupStatement"]["Name"]
            for rule in rules.values()
            if "ManagedRuleGroupStatement" in rule["Statement"]
        }
        assert (
            managed
            == set(MANAGED_RULE_GROUPS)
            >= {
                "AWSManagedRulesCommonRuleSet",
                "AWSManagedRulesKnownBadInputsRuleSet",
                "AWSManagedRulesAmazonIpReputationList",
                "AWSManagedRulesSQLiRuleSet",
            }
        )
        [rate] = [rule for rule in rules.values() if "RateBasedStatement" in rule["Statement"]]
        assert rate["Statement"]["RateBasedStatement"]["AggregateKeyType"] == "IP"
        assert rate["Statement"]["RateBasedStatement"]["Limit"] == settings.waf_rate_limit
        assert rate["Action"]["Block"]["CustomResponse"]["ResponseCode"] == 429
        _, association = edge.template.only("AWS::WAFv2::WebACLAssociation")
        assert association["Properties"]["WebACLArn"] == {"Fn::GetAtt": [acl_id, "Arn"]}
        # the REST API's stage, passed in from the regional stack
        assert "/stages/" in json.dumps(association["Properties"]["ResourceArn"])
        _, logging = edge.template.only("AWS::WAFv2::LoggingConfiguration")
        [log_group] = [
            group["Properties"]
            for group in edge.template.of_type("AWS::Logs::LogGroup").values()
            if str(group["Properties"].get("LogGroupName", "")).startswith("aws-waf-logs-")
        ]
        assert log_group["LogGroupName"].startswith("aws-waf-logs-")
        assert "KmsKeyId" in log_group
        assert log_group["LogGroupName"] in json.dumps(logging["Properties"]["LogDestinationConfigs"])


def test_edge_templates_have_no_cfn_lint_findings(edges: dict[str, Edge], synthesized: Synthesized) -> None:
    findings = [
        f"{region}: {match.rule.id} {match.message} ({match.path_string})"
        for region, edge in edges.items()
        for match in lint_file(synthesized.outdir / edge.file, config=ManualArgs(regions=[region]))
        if not match.rule.id.startswith("I") and match.rule.id != "W3005"
    ]
    assert findings == [], "\n".join(findings)
