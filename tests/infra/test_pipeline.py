"""The delivery pipeline: the GitHub workflows and the deploy role the CDK app defines for them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from stack_template import StackTemplate, Synthesized

from infra import bundling
from infra.pipeline import BOOTSTRAP_ROLE_PURPOSES, GITHUB_OIDC_HOST, STS_AUDIENCE
from infra.sources import REPO_ROOT

pytestmark = pytest.mark.infra

WORKFLOWS = REPO_ROOT / ".github" / "workflows"


def workflow(name: str) -> dict[Any, Any]:
    loaded: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    return loaded


def triggers(document: dict[Any, Any]) -> dict[str, Any]:
    # YAML 1.1 reads the key `on` as True
    found: dict[str, Any] = document.get("on", document.get(True))
    return found


@pytest.fixture(scope="module")
def deploy_role(synthesized: Synthesized) -> StackTemplate:
    return synthesized.templates[f"DogWalk-{synthesized.deployment.stage}-github-deploy"]


def test_the_deploy_role_trusts_one_repository_and_environment_through_github_oidc(
    deploy_role: StackTemplate, synthesized: Synthesized
) -> None:
    provider_id, provider = deploy_role.only("AWS::IAM::OIDCProvider")
    assert provider["Properties"]["Url"] == f"https://{GITHUB_OIDC_HOST}"
    assert provider["Properties"]["ClientIdList"] == [STS_AUDIENCE]
    _, role = deploy_role.only("AWS::IAM::Role")
    [statement] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Principal"] == {"Federated": {"Fn::GetAtt": [provider_id, "Arn"]}}
    stage = synthesized.deployment.stage
    # StringEquals on both: no wildcard subject (another repository, branch or environment)
    assert statement["Condition"] == {
        "StringEquals": {
            f"{GITHUB_OIDC_HOST}:aud": STS_AUDIENCE,
            f"{GITHUB_OIDC_HOST}:sub": f"repo:example-org/dogwalk:environment:{stage}",
        }
    }


def test_the_deploy_role_may_only_assume_the_cdk_bootstrap_roles(deploy_role: StackTemplate) -> None:
    statements = deploy_role.iam_statements()
    assert [statement["Action"] for statement in statements] == ["sts:AssumeRole"]
    [statement] = statements
    resources = [
        "".join(part if isinstance(part, str) else "<token>" for part in arn["Fn::Join"][1])
        for arn in statement["Resource"]
    ]
    assert resources == [
        f"arn:aws:iam::<token>:role/cdk-*-{purpose}-role-<token>-*" for purpose in BOOTSTRAP_ROLE_PURPOSES
    ]
    _, role = deploy_role.only("AWS::IAM::Role")
    assert "ManagedPolicyArns" not in role["Properties"]


def test_ci_runs_lint_tests_the_audit_and_synth_on_pull_requests_and_main() -> None:
    document = workflow("ci.yml")
    on = triggers(document)
    assert "pull_request" in on
    assert on["push"]["branches"] == ["main"]
    runs = {name: "\n".join(step.get("run", "") for step in job["steps"]) for name, job in document["jobs"].items()}
    assert "make lint" in runs["lint"]
    assert "make test" in runs["test"]
    assert "pip-audit" in runs["audit"] and "requirements.txt" in runs["audit"]
    assert "make synth" in runs["synth"]
    # the synth runs cdk-nag: app.py adds the checks, which fail the synth on a finding
    assert "add_checks(app)" in (REPO_ROOT / "app.py").read_text()
    assert document["permissions"] == {"contents": "read"}


def test_deploy_promotes_dev_on_main_staging_on_a_tag_and_prod_after_staging() -> None:
    document = workflow("deploy.yml")
    on = triggers(document)
    assert on["push"]["branches"] == ["main"] and on["push"]["tags"] == ["v*"]
    jobs = document["jobs"]
    assert {name: job["with"]["environment"] for name, job in jobs.items()} == {
        "dev": "dev",
        "staging": "staging",
        "prod": "prod",
    }
    assert jobs["dev"]["if"] == "github.ref == 'refs/heads/main'"
    assert jobs["staging"]["if"] == "startsWith(github.ref, 'refs/tags/v')"
    assert jobs["prod"]["needs"] == "staging"
    for job in jobs.values():
        assert job["uses"] == "./.github/workflows/deploy-environment.yml"
        assert job["permissions"]["id-token"] == "write"


def test_an_environment_deploys_with_oidc_in_its_github_environment_primary_secondary_global() -> None:
    text = (WORKFLOWS / "deploy-environment.yml").read_text()
    [job] = workflow("deploy-environment.yml")["jobs"].values()
    # the GitHub environment: its protection rules (prod's required review) and its variables
    assert job["environment"] == "${{ inputs.environment }}"
    [credentials] = [step for step in job["steps"] if "configure-aws-credentials" in step.get("uses", "")]
    assert credentials["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
    # no stored keys anywhere in the workflows
    for path in WORKFLOWS.glob("*.yml"):
        assert "aws-access-key-id" not in path.read_text() and "secrets.AWS" not in path.read_text(), path.name
    [deploy] = [step["run"] for step in job["steps"] if "cdk" in step.get("run", "")]
    assert "for role in primary secondary global" in deploy
    assert "--exclusively" in deploy and "--no-rollback" not in deploy
    assert "cancel-in-progress: false" in text
    # what it ships carries Lambda's bytecode: it synthesizes with Lambda's Python, and refuses to without
    [python] = [step for step in job["steps"] if "setup-python" in step.get("uses", "")]
    assert python["with"]["python-version"] == bundling.PYTHON_VERSION
    assert job["env"]["DOGWALK_REQUIRE_BYTECODE"] == "1"


def test_the_workflows_name_the_stacks_the_app_makes(synthesized: Synthesized) -> None:
    stage = synthesized.deployment.stage
    for role in ("primary", "secondary", "global"):
        assert f"DogWalk-{stage}-{role}" in synthesized.templates
    assert Path(WORKFLOWS / "deploy-environment.yml").read_text().count('"DogWalk-$STAGE-$role"') == 1
