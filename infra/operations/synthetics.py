"""Watching the API from outside: a CloudWatch Synthetics canary per region, every minute, and its alarm.

The canary calls what an anonymous client can: `GET /v1/health` (200 `{"status": "ok"}`),
`GET /.well-known/jwks.json` (200 with at least one key) and one read behind the token authorizer
without a token (`GET /v1/walkers/search`: 401 problem+json: the authorizer and the gateway's
answers work). The contract has no other public read. It calls the region's own name
(`api-<region>.<domain>`, the one the Route 53 health check probes) when the stack has custom
domains, else the stage's execute-api URL. Its artifacts (logs, HAR files) go to a bucket of its own:
encrypted, private, TLS only, deleted after `ARTIFACT_DAYS`. A success rate under
`SUCCESS_THRESHOLD` % in 3 of 5 minutes, or no result at all, notifies the ops topic.

A nested stack (about six resources the regional stack would not hold). The script is inline and
has no dependency beyond the standard library: `tests/infra/operations/test_synthetics.py` runs it
against a local server.
"""

from __future__ import annotations

from aws_cdk import Duration, NestedStack, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_synthetics as synthetics
from constructs import Construct

from infra.compliance import acknowledge, finding_text
from infra.sources import REPO_ROOT

# the newest Python runtime this aws-cdk-lib names (AWS documents later ones: a plain
# `synthetics.Runtime("syn-python-selenium-<n>", synthetics.RuntimeFamily.PYTHON)` selects one)
RUNTIME = synthetics.Runtime.SYNTHETICS_PYTHON_SELENIUM_7_0
SCRIPT = REPO_ROOT / "infra" / "operations" / "synthetics_canary.py"
ARTIFACT_DAYS = 30
SUCCESS_THRESHOLD = 90
# the environment variable the script reads its base URL from
BASE_URL = "DOGWALK_BASE_URL"


def canary_name(stage: str) -> str:
    """`dogwalk-<stage>-api`: at most 21 lowercase characters, as Synthetics asks."""
    name = f"dogwalk-{stage}-api"
    if len(name) > 21:
        raise ValueError(f"canary name {name!r} is longer than 21 characters")
    return name


class ApiCanary(NestedStack):
    """The region's canary (health, JWKS, an anonymous read refused), its artifacts bucket and its alarm."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        base_url: str,
        topic: sns.ITopic,
        alarm_name_prefix: str,
    ) -> None:
        super().__init__(scope, construct_id, description=f"dogwalk {stage}: the API's synthetic canary")
        self.artifacts = s3.Bucket(
            self,
            "Artifacts",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=False,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(ARTIFACT_DAYS))],
            removal_policy=RemovalPolicy.DESTROY,
        )
        acknowledge(
            self.artifacts,
            "S1",
            "the canary's own run artifacts, written only by its role and deleted after "
            f"{ARTIFACT_DAYS} days; CloudTrail records who reads them",
        )
        self.canary = synthetics.Canary(
            self,
            "Canary",
            canary_name=canary_name(stage),
            runtime=RUNTIME,
            test=synthetics.Test.custom(
                code=synthetics.Code.from_inline(SCRIPT.read_text()),
                handler="index.handler",
            ),
            schedule=synthetics.Schedule.rate(Duration.minutes(1)),
            environment_variables={BASE_URL: base_url},
            artifacts_bucket_location=synthetics.ArtifactsBucketLocation(bucket=self.artifacts),
            success_retention_period=Duration.days(7),
            failure_retention_period=Duration.days(ARTIFACT_DAYS),
            timeout=Duration.seconds(50),
            provisioned_resource_cleanup=True,
        )
        acknowledge(
            self.canary.role,
            "IAM5[Resource::*]",
            "Synthetics' documented canary policy: s3:ListAllMyBuckets, xray:PutTraceSegments and "
            "cloudwatch:PutMetricData (limited to the CloudWatchSynthetics namespace) take no resource",
        )
        acknowledge(
            self.canary.role,
            f"IAM5[Resource::{finding_text(self, f'{self.artifacts.bucket_arn}/*')}]",
            "the canary writes its run artifacts under keys of its own making, in its own bucket only",
        )
        acknowledge(
            self.canary.role,
            f"IAM5[Resource::arn:aws:logs:{Stack.of(self).region}:<AWS::AccountId>:log-group:/aws/lambda/cwsyn-*]",
            "Synthetics names the canary's Lambda (and so its log group) cwsyn-<name>-<id> at creation",
        )
        self.alarm = cloudwatch.Alarm(
            self,
            "SuccessAlarm",
            alarm_name=f"{alarm_name_prefix}synthetics-success",
            alarm_description=(
                f"The synthetic canary {canary_name(stage)} (health, JWKS, anonymous read refused) succeeded "
                f"in under {SUCCESS_THRESHOLD} % of its runs in 3 of the last 5 minutes, or did not run"
            ),
            metric=self.canary.metric_success_percent(period=Duration.minutes(1), statistic="Average"),
            threshold=SUCCESS_THRESHOLD,
            comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            evaluation_periods=5,
            datapoints_to_alarm=3,
            # a canary that stopped running is a problem of its own
            treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
        )
        self.alarm.add_alarm_action(actions.SnsAction(topic))
