"""The compliance checks every synth runs (cdk-nag's AWS Solutions pack) and how findings are acknowledged."""

from __future__ import annotations

from aws_cdk import Acknowledgment, App, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

PACK = "AwsSolutions"


def add_checks(app: App) -> None:
    """Fail the synth on any AWS Solutions finding that no construct acknowledges with a reason."""
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    """Accept finding `rule` (e.g. `IAM5[Resource::*]`) on `scope` and everything below it."""
    Validations.of(scope).acknowledge(Acknowledgment(id=f"{PACK}::{PACK}-{rule}", reason=reason))
