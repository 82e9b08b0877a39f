"""The synthesized templates pass cfn-lint, in the region each stack deploys to."""

from __future__ import annotations

import pytest
from cfnlint.api import ManualArgs, lint_file
from extra_declarations import EXTRAS_STACK
from nested_stacks import service_function_stacks
from stack_template import Synthesized

pytestmark = pytest.mark.infra

# CDK itself puts an explicit DependsOn on each function's role next to the GetAtt that already
# orders them (W3005). The endpoints' SnapStart applies to their published versions, which live
# in the Canary stacks (with the aliases CodeDeploy shifts), so a template holding only the
# function sees no version beside it (W2530). Any other warning is new and worth a look.
KNOWN_WARNINGS = {"W3005", "W2530"}


@pytest.fixture(scope="module")
def findings(synthesized: Synthesized) -> dict[str, list[tuple[str, str]]]:
    """Stack name → (rule id, message) of every cfn-lint finding."""
    stacks = {
        synthesized.primary: synthesized.deployment.primary_region,
        synthesized.secondary: synthesized.deployment.secondary_region,
        EXTRAS_STACK: synthesized.deployment.primary_region,
    }
    # and the nested services' function stacks (infra/functions.py ServiceFunctions), each in its region
    files = {stack: (synthesized.template_file(stack), region) for stack, region in stacks.items()}
    for stack, region in stacks.items():
        for service in service_function_stacks(synthesized, stack):
            files[service.path.name] = (service.path, region)
    return {
        name: [
            (match.rule.id, f"{match.rule.id} {match.message} ({match.path_string})")
            for match in lint_file(path, config=ManualArgs(regions=[region]))
        ]
        for name, (path, region) in files.items()
    }


def test_templates_have_no_cfn_lint_errors(findings: dict[str, list[tuple[str, str]]]) -> None:
    errors = [f"{stack}: {text}" for stack, found in findings.items() for rule, text in found if rule.startswith("E")]
    assert errors == [], "\n".join(errors)


def test_templates_have_only_known_cfn_lint_warnings(findings: dict[str, list[tuple[str, str]]]) -> None:
    warnings = [
        f"{stack}: {text}"
        for stack, found in findings.items()
        for rule, text in found
        if rule.startswith("W") and rule not in KNOWN_WARNINGS
    ]
    assert warnings == [], "\n".join(warnings)
