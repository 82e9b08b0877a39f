"""The CDK app: the DogWalk platform in its primary and secondary regions (`cdk synth`, `make synth`)."""

from __future__ import annotations

import os

from aws_cdk import App

from infra.compliance import add_checks
from infra.deployment import cdk_json_context
from infra.failover import global_stack
from infra.pipeline import deploy_role_stack
from infra.sources import REPO_ROOT
from infra.stack import regional_stacks

# The CLI names the output folder; run directly, the app would write to a temporary folder.
app = App(context=cdk_json_context(), outdir=os.environ.get("CDK_OUTDIR", str(REPO_ROOT / "cdk.out")))
# the global stack (Route 53 failover) after the regional stacks it points at
global_stack(app, regional_stacks(app))
# the GitHub Actions deploy role (OIDC): deployed once by hand per account and environment
deploy_role_stack(app)
add_checks(app)
app.synth()
