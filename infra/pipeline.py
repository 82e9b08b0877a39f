"""The GitHub deploy role of one environment: a stack of its own (`DogWalk-<stage>-github-deploy`).

GitHub Actions gets a short-lived token from GitHub's OIDC provider and exchanges it for this
role (`.github/workflows/deploy-environment.yml`); no AWS key is stored anywhere. The role trusts
only tokens of one repository's jobs that run in this stage's GitHub environment (`sub` is
`repo:<owner>/<name>:environment:<stage>`, the environment's protection rules decide who may run
one), and may do one thing: assume the CDK bootstrap roles (deploy, file publishing, lookup) of the
account, which do the deploying. An admin deploys this stack once per account and environment, by
hand (`cdk deploy DogWalk-<stage>-github-deploy`); the pipeline never changes its own role.

Context: `github_repository` (`owner/name`), `github_oidc_provider_arn` (an account has one
provider per URL: when another stack already made it, its ARN; empty: this stack makes it).
"""

from __future__ import annotations

import os

from aws_cdk import App, CfnOutput, Duration, Environment, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from infra.compliance import acknowledge, finding_text
from infra.deployment import Deployment

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_OIDC_URL = f"https://{GITHUB_OIDC_HOST}"
STS_AUDIENCE = "sts.amazonaws.com"
# the roles `cdk bootstrap` makes (any qualifier): cdk-<qualifier>-<purpose>-role-<account>-<region>
BOOTSTRAP_ROLE_PURPOSES = ("deploy", "file-publishing", "lookup")


def bootstrap_role_arns(stack: Stack) -> list[str]:
    """The CDK bootstrap roles of the stack's account, in every region the app deploys to."""
    return [
        stack.format_arn(
            service="iam",
            region="",
            resource="role",
            resource_name=f"cdk-*-{purpose}-role-{stack.account}-*",
        )
        for purpose in BOOTSTRAP_ROLE_PURPOSES
    ]


class GitHubDeployRole(Stack):
    """GitHub's OIDC provider (or the account's existing one) and the environment's deploy role."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        repository: str,
        provider_arn: str = "",
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        if repository.count("/") != 1 or "*" in repository:
            raise ValueError(f"CDK context github_repository={repository!r} must be one repository, owner/name")
        if not provider_arn:
            provider = iam.CfnOIDCProvider(
                self, "GitHubOidcProvider", url=GITHUB_OIDC_URL, client_id_list=[STS_AUDIENCE]
            )
            provider_arn = provider.attr_arn
        self.subject = f"repo:{repository}:environment:{stage}"
        self.role = iam.Role(
            self,
            "DeployRole",
            role_name=f"dogwalk-{stage}-github-deploy",
            description=f"GitHub Actions deploying dogwalk {stage} from {repository} (environment {stage})",
            max_session_duration=Duration.hours(2),
            assumed_by=iam.WebIdentityPrincipal(
                provider_arn,
                conditions={
                    "StringEquals": {
                        f"{GITHUB_OIDC_HOST}:aud": STS_AUDIENCE,
                        f"{GITHUB_OIDC_HOST}:sub": self.subject,
                    }
                },
            ),
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="AssumeCdkBootstrapRoles",
                actions=["sts:AssumeRole"],
                resources=bootstrap_role_arns(self),
            )
        )
        for arn in bootstrap_role_arns(self):
            acknowledge(
                self.role,
                f"IAM5[Resource::{finding_text(self, arn)}]",
                "the bootstrap roles' names carry the bootstrap qualifier and the region: any qualifier, any region",
            )
        CfnOutput(
            self,
            "DeployRoleArn",
            value=self.role.role_arn,
            description=f"the GitHub environment {stage}'s variable AWS_DEPLOY_ROLE_ARN",
        )


def deploy_role_stack(app: App) -> GitHubDeployRole:
    """The deploy role of the selected environment, in its primary region."""
    deployment = Deployment.from_context(app.node)
    return GitHubDeployRole(
        app,
        f"DogWalk-{deployment.stage}-github-deploy",
        stage=deployment.stage,
        repository=str(app.node.try_get_context("github_repository") or ""),
        provider_arn=str(app.node.try_get_context("github_oidc_provider_arn") or ""),
        env=Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=deployment.primary_region),
        description=f"DogWalk platform, {deployment.stage}: the GitHub Actions deploy role (OIDC)",
    )
