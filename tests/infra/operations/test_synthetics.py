"""The API watched from outside: the Synthetics canary per region (infra/operations/synthetics.py), its
artifacts bucket and alarm, its script against a local server, and the Route 53 health-check alarms."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aws_cdk import App
from nested_stacks import Nested, nested
from stack_template import Synthesized, ops_topic, referenced_ids

from infra.edge import EdgeSettings
from infra.failover import GlobalStack
from infra.operations import synthetics_canary
from infra.operations.synthetics import ARTIFACT_DAYS, SCRIPT, SUCCESS_THRESHOLD

pytestmark = pytest.mark.infra

CANARY = "AWS::Synthetics::Canary"


@pytest.fixture(scope="module")
def canaries(synthesized: Synthesized) -> list[tuple[str, Nested]]:
    return [
        (region, nested(synthesized, name, "Synthetics"))
        for name, region in zip(
            (synthesized.primary, synthesized.secondary), synthesized.deployment.regions, strict=True
        )
    ]


def test_one_canary_per_region_every_minute_on_the_region_s_own_name(
    canaries: list[tuple[str, Nested]], synthesized: Synthesized
) -> None:
    stage = synthesized.deployment.stage
    for region, stack in canaries:
        _, canary = stack.template.only(CANARY)
        properties = canary["Properties"]
        assert properties["Name"] == f"dogwalk-{stage}-api"
        assert properties["RuntimeVersion"] == "syn-python-selenium-7.0"
        assert properties["Schedule"]["Expression"] == "rate(1 minute)"
        assert properties["StartCanaryAfterCreation"] is True
        assert properties["Code"]["Handler"] == "index.handler"
        assert properties["Code"]["Script"] == SCRIPT.read_text()
        variables = properties["RunConfig"]["EnvironmentVariables"]
        assert variables["DOGWALK_BASE_URL"] == f"https://api-{region}.{stage}.dogwalk.example"


def test_artifacts_go_to_a_private_encrypted_tls_only_bucket_that_expires(canaries: list[tuple[str, Nested]]) -> None:
    for _, stack in canaries:
        bucket_id, bucket = stack.template.only("AWS::S3::Bucket")
        properties = bucket["Properties"]
        assert properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert properties["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        [rule] = properties["LifecycleConfiguration"]["Rules"]
        assert (rule["Status"], rule["ExpirationInDays"]) == ("Enabled", ARTIFACT_DAYS)
        _, policy = stack.template.only("AWS::S3::BucketPolicy")
        [deny] = policy["Properties"]["PolicyDocument"]["Statement"]
        assert deny["Effect"] == "Deny"
        assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        _, canary = stack.template.only(CANARY)
        assert bucket_id in referenced_ids(canary["Properties"]["ArtifactS3Location"])


def test_success_rate_alarm_notifies_ops(canaries: list[tuple[str, Nested]], synthesized: Synthesized) -> None:
    stage = synthesized.deployment.stage
    for _, stack in canaries:
        canary_id, _ = stack.template.only(CANARY)
        _, alarm = stack.template.only("AWS::CloudWatch::Alarm")
        properties = alarm["Properties"]
        assert properties["AlarmName"] == f"dogwalk-{stage}-synthetics-success"
        assert (properties["Namespace"], properties["MetricName"]) == ("CloudWatchSynthetics", "SuccessPercent")
        assert referenced_ids(properties["Dimensions"]) == {canary_id}
        assert (properties["Threshold"], properties["ComparisonOperator"]) == (SUCCESS_THRESHOLD, "LessThanThreshold")
        assert (properties["EvaluationPeriods"], properties["DatapointsToAlarm"], properties["Period"]) == (5, 3, 60)
        assert properties["TreatMissingData"] == "breaching"
        assert stack.parameter_source(properties["AlarmActions"]) == {ops_topic(stack.parent, stage)}


def test_route53_health_checks_alarm_to_the_primary_region_s_ops_topic(synthesized: Synthesized) -> None:
    stage = synthesized.deployment.stage
    template = synthesized.templates[f"DogWalk-{stage}-global"]
    checks = template.of_type("AWS::Route53::HealthCheck")
    alarms = template.of_type("AWS::CloudWatch::Alarm")
    assert len(alarms) == len(checks) == 2
    watched = set()
    for alarm in alarms.values():
        properties = alarm["Properties"]
        assert (properties["Namespace"], properties["MetricName"]) == ("AWS/Route53", "HealthCheckStatus")
        [dimension] = properties["Dimensions"]
        assert dimension["Name"] == "HealthCheckId"
        watched |= referenced_ids(dimension["Value"])
        assert (properties["Statistic"], properties["Threshold"], properties["ComparisonOperator"]) == (
            "Minimum",
            1,
            "LessThanThreshold",
        )
        assert properties["TreatMissingData"] == "breaching"
        assert properties["AlarmName"].startswith(f"dogwalk-{stage}-route53-health-")
        [action] = properties["AlarmActions"]
        assert json.dumps(action).endswith(f':dogwalk-{stage}-ops"]]}}')
        assert ":us-east-1:" in json.dumps(action) or "AWS::Region" in json.dumps(action)
    assert watched == set(checks)
    manifest = json.loads((synthesized.outdir / "manifest.json").read_text())
    assert manifest["artifacts"][f"DogWalk-{stage}-global"]["environment"].endswith("/us-east-1")


def test_health_check_alarms_refuse_a_region_without_route53_metrics() -> None:
    settings = EdgeSettings(
        domain_name="dogwalk.example", hosted_zone_id="Z1", hosted_zone_name="dogwalk.example", waf_rate_limit=1000
    )
    with pytest.raises(ValueError, match="us-east-1"):
        GlobalStack(
            App(),
            "Global",
            settings=settings,
            regions=("eu-west-1", "eu-central-1"),
            stage="dev",
            env={"region": "eu-west-1"},
        )


# --- the script, against a local server ------------------------------------------------------


class Api(BaseHTTPRequestHandler):
    answers: dict[str, tuple[int, str, Any]] = {}

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        status, content_type, body = self.answers.get(path, (404, "application/problem+json", {"status": 404}))
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Api)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


HEALTHY = {
    "/v1/health": (200, "application/json", {"status": "ok", "checks": {"database": "ok", "cache": "ok"}}),
    "/.well-known/jwks.json": (200, "application/json", {"keys": [{"kid": "k1", "kty": "EC"}]}),
    "/v1/walkers/search": (401, "application/problem+json", {"status": 401, "code": "unauthorized"}),
}


def test_the_script_passes_on_the_contract_s_answers(api: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Api, "answers", HEALTHY)
    monkeypatch.setenv("DOGWALK_BASE_URL", api)
    assert synthetics_canary.handler({}, None) == ["health", "jwks", "anonymous-read-refused"]


@pytest.mark.parametrize(
    ("path", "answer", "failed"),
    [
        ("/v1/health", (503, "application/json", {"status": "degraded"}), "health"),
        ("/v1/health", (200, "application/json", {"status": "degraded"}), "health"),
        ("/.well-known/jwks.json", (200, "application/json", {"keys": []}), "jwks"),
        ("/.well-known/jwks.json", (502, "text/html", "<html>"), "jwks"),
        # an open read, or the authorizer failing as a 500: both are failures
        ("/v1/walkers/search", (200, "application/json", {"items": []}), "anonymous-read-refused"),
        ("/v1/walkers/search", (500, "application/problem+json", {"status": 500}), "anonymous-read-refused"),
        ("/v1/walkers/search", (401, "text/html", "denied"), "anonymous-read-refused"),
    ],
)
def test_the_script_fails_the_run_naming_the_check(
    api: str, monkeypatch: pytest.MonkeyPatch, path: str, answer: tuple[int, str, Any], failed: str
) -> None:
    monkeypatch.setattr(Api, "answers", {**HEALTHY, path: answer})
    with pytest.raises(AssertionError) as raised:
        synthetics_canary.run(api)
    assert str(raised.value).startswith(f"{failed}:")
    assert ";" not in str(raised.value)  # the other checks passed


def test_the_script_refuses_a_non_http_url() -> None:
    with pytest.raises(AssertionError, match="not an HTTP URL"):
        synthetics_canary.run("file:///etc")
