"""The global stack (health checks, failover records), the environments, and the failover drill."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from aws_cdk import App
from cfnlint.api import ManualArgs, lint_file
from extra_declarations import unbundled_app
from stack_template import StackTemplate, Synthesized

from infra.deployment import Deployment, cdk_json_context
from infra.drill import STATES, Drill, load_templates
from infra.edge import EdgeSettings
from infra.environments import apply_environment
from infra.sources import REPO_ROOT

pytestmark = pytest.mark.infra

SERVICES = ("api", "ws", "iot")


@pytest.fixture(scope="module")
def settings() -> EdgeSettings:
    app = unbundled_app()
    apply_environment(app)
    found = EdgeSettings.from_context(app.node)
    assert found is not None
    return found


@pytest.fixture(scope="module")
def global_name(synthesized: Synthesized) -> str:
    return f"DogWalk-{synthesized.deployment.stage}-global"


@pytest.fixture(scope="module")
def global_template(synthesized: Synthesized, global_name: str) -> StackTemplate:
    return synthesized.templates[global_name]


def test_global_stack_deploys_to_the_primary_region_after_the_regional_stacks(
    synthesized: Synthesized, global_name: str
) -> None:
    manifest = json.loads((synthesized.outdir / "manifest.json").read_text())
    artifact = manifest["artifacts"][global_name]
    assert artifact["environment"].endswith(f"/{synthesized.deployment.primary_region}")
    assert {synthesized.primary, synthesized.secondary} <= set(artifact["dependencies"])


def test_one_https_health_check_per_region_on_v1_health(
    global_template: StackTemplate, settings: EdgeSettings, synthesized: Synthesized
) -> None:
    checks = [
        check["Properties"]["HealthCheckConfig"]
        for check in global_template.of_type("AWS::Route53::HealthCheck").values()
    ]
    assert sorted(check["FullyQualifiedDomainName"] for check in checks) == sorted(
        settings.regional_name("api", region) for region in synthesized.deployment.regions
    )
    for check in checks:
        assert check["Type"] == "HTTPS"
        assert check["ResourcePath"] == "/v1/health"
        assert check["Port"] == 443
        assert check["EnableSNI"] is True
        assert check["RequestInterval"] == 30
        assert check["FailureThreshold"] == 3


def test_failover_records_primary_and_secondary_with_their_region_health_check(
    global_template: StackTemplate, settings: EdgeSettings, synthesized: Synthesized
) -> None:
    checks = {
        logical_id: check["Properties"]["HealthCheckConfig"]["FullyQualifiedDomainName"]
        for logical_id, check in global_template.of_type("AWS::Route53::HealthCheck").items()
    }
    records = [record["Properties"] for record in global_template.of_type("AWS::Route53::RecordSet").values()]
    assert len(records) == 2 * len(SERVICES)
    roles = dict(zip(("PRIMARY", "SECONDARY"), synthesized.deployment.regions, strict=True))
    for service in SERVICES:
        group = {r["Failover"]: r for r in records if r["Name"] == f"{settings.global_name(service)}."}
        assert set(group) == set(roles)
        for role, region in roles.items():
            record = group[role]
            assert record["HostedZoneId"] == settings.hosted_zone_id
            assert checks[record["HealthCheckId"]["Fn::GetAtt"][0]] == settings.regional_name("api", region)
            target = f"{settings.regional_name(service, region)}"
            if service == "iot":
                assert record["Type"] == "CNAME"
                assert record["ResourceRecords"] == [target]
            else:
                assert record["Type"] == "A"
                assert record["AliasTarget"]["DNSName"] == f"{target}."
                # an alias inside the zone: the regional record, no cross-region reference
                assert record["AliasTarget"]["HostedZoneId"] == settings.hosted_zone_id


def test_global_template_has_no_cfn_lint_findings(synthesized: Synthesized, global_name: str) -> None:
    findings = [
        f"{match.rule.id} {match.message} ({match.path_string})"
        for match in lint_file(
            synthesized.template_file(global_name), config=ManualArgs(regions=[synthesized.deployment.primary_region])
        )
        if not match.rule.id.startswith("I")
    ]
    assert findings == [], "\n".join(findings)


def test_drill_table_follows_the_health_checks(synthesized: Synthesized, settings: EdgeSettings) -> None:
    primary, secondary = synthesized.deployment.regions
    table = Drill(load_templates(synthesized.outdir)).table()
    assert list(table) == list(STATES)
    expected = {
        "both healthy": primary,
        "primary unhealthy": secondary,
        "secondary unhealthy": primary,
        # Route 53 counts all records healthy when none is: the primary answers
        "both unhealthy": primary,
    }
    for state, region in expected.items():
        assert {name: (answer.record, answer.region) for name, answer in table[state].items()} == {
            settings.global_name(service): (settings.regional_name(service, region), region) for service in SERVICES
        }
        stacks = {answer.stack for answer in table[state].values()}
        assert stacks == {f"{synthesized.primary if region == primary else synthesized.secondary}/Edge"}


def test_drill_command_prints_the_table(synthesized: Synthesized, settings: EdgeSettings) -> None:
    primary, secondary = synthesized.deployment.regions
    result = subprocess.run(  # noqa: S603 - our own module
        [sys.executable, "-m", "infra.drill", "--outdir", str(synthesized.outdir)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    sections = {block.splitlines()[0]: block for block in result.stdout.split("\n\n")}
    by_state = {next(title for title in sections if title.startswith(state)): state for state in STATES}
    for title, state in by_state.items():
        region = secondary if state == "primary unhealthy" else primary
        for service in SERVICES:
            line = next(
                line
                for line in sections[title].splitlines()
                if line.strip().startswith(settings.global_name(service) + " ")
            )
            assert f"-> {settings.regional_name(service, region)}" in line
            assert region in line


def test_environments_select_settings_from_context() -> None:
    app = App(context={**cdk_json_context(), "environment": "prod"})
    apply_environment(app)
    deployment = Deployment.from_context(app.node)
    settings = EdgeSettings.from_context(app.node)
    assert deployment.stage == "prod"
    assert settings is not None
    assert settings.domain_name == "dogwalk.example"
    # a value given on the command line wins over the environment's block
    app = App(context={**cdk_json_context(), "environment": "staging", "api_throttle_rate_limit": 7})
    apply_environment(app)
    assert Deployment.from_context(app.node).api_throttle_rate_limit == 7
    assert Deployment.from_context(app.node).stage == "staging"


def test_unknown_environment_is_refused() -> None:
    app = App(context={**cdk_json_context(), "environment": "qa"})
    with pytest.raises(ValueError, match="qa"):
        apply_environment(app)


def test_cdk_json_environments_each_have_a_domain() -> None:
    context = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    assert context["environment"] == "dev"
    for name, block in context["environments"].items():
        assert block["stage"] == name
        for key in ("domain_name", "hosted_zone_id", "hosted_zone_name", "waf_rate_limit"):
            assert key in block, f"{name} lacks {key}"
