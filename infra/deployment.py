"""Deployment settings, read from the CDK context whose defaults live in `cdk.json`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aws_cdk import aws_logs as logs
from constructs import Node

from infra.sources import CDK_JSON


def cdk_json_context() -> dict[str, Any]:
    """The `context` of `cdk.json`.

    The CDK CLI passes it to the app itself, but `python app.py` and the tests do not go
    through the CLI; giving it to `App(context=...)` keeps one source of defaults (values the
    CLI passes, including `-c key=value`, take precedence over these).
    """
    context: dict[str, Any] = json.loads(CDK_JSON.read_text())["context"]
    return context


@dataclass(frozen=True)
class Deployment:
    """What differs between deployments of the same code (stage, regions, limits)."""

    stage: str
    primary_region: str
    secondary_region: str
    # placeholders until the database and cache constructs provide real endpoints
    database_url: str
    redis_url: str
    log_retention: logs.RetentionDays
    api_throttle_rate_limit: int
    api_throttle_burst_limit: int
    # the SES domain identity notification emails are sent from (notifications@<domain>)
    notifications_sender_domain: str = "dogwalk.example"
    # the SNS platform applications for push (made outside CloudFormation: they hold the FCM and
    # APNs credentials); empty: no push grants, and the synth warns
    fcm_platform_application_arn: str = ""
    apns_platform_application_arn: str = ""
    # Sign in with Apple / Google: our apps' client ids (comma-separated), the audiences their ID
    # tokens must carry; empty: that provider is refused
    oidc_apple_client_ids: str = ""
    oidc_google_client_ids: str = ""

    @property
    def regions(self) -> tuple[str, str]:
        return (self.primary_region, self.secondary_region)

    @classmethod
    def from_context(cls, node: Node) -> Deployment:
        def required(key: str) -> Any:
            value = node.try_get_context(key)
            if value is None:
                raise ValueError(f"CDK context {key!r} is missing: set it in cdk.json or pass -c {key}=...")
            return value

        def optional(key: str, default: str) -> Any:
            value = node.try_get_context(key)
            return default if value is None else value

        return cls(
            stage=str(required("stage")),
            primary_region=str(required("primary_region")),
            secondary_region=str(required("secondary_region")),
            database_url=str(required("database_url")),
            redis_url=str(required("redis_url")),
            log_retention=logs.RetentionDays[str(required("log_retention"))],
            api_throttle_rate_limit=int(required("api_throttle_rate_limit")),
            api_throttle_burst_limit=int(required("api_throttle_burst_limit")),
            notifications_sender_domain=str(optional("notifications_sender_domain", cls.notifications_sender_domain)),
            fcm_platform_application_arn=str(optional("fcm_platform_application_arn", "")),
            apns_platform_application_arn=str(optional("apns_platform_application_arn", "")),
            oidc_apple_client_ids=str(optional("oidc_apple_client_ids", "")),
            oidc_google_client_ids=str(optional("oidc_google_client_ids", "")),
        )
