"""cdk-nag's AWS Solutions pack finds nothing that the constructs do not acknowledge with a reason."""

from __future__ import annotations

import json

import pytest
from stack_template import Synthesized

pytestmark = pytest.mark.infra


def test_aws_solutions_checks_pass(synthesized: Synthesized) -> None:
    report = json.loads((synthesized.outdir / "validation-report.json").read_text())
    [nag] = [plugin for plugin in report["pluginReports"] if plugin["pluginName"] == "AwsSolutions"]
    assert nag["conclusion"] == "success"
    assert nag["violations"] == []
