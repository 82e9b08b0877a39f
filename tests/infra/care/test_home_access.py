"""The home-access key (infra/care/home_access.py): a customer managed, multi-Region key with
rotation on in each regional stack, which only the functions that declare HOME_ACCESS may use
(kms:GenerateDataKey and kms:Decrypt, under the platform's encryption context) and find in their
environment; every other function's role, get_booking's included, cannot decrypt with it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from nested_stacks import NESTED
from stack_template import StackTemplate, Synthesized, referenced_ids

from dogwalk import registry
from dogwalk.config import environment_names

pytestmark = pytest.mark.infra

KEY = "AWS::KMS::Key"
ENV = environment_names()["home_access_key_id"]
HOME_ACCESS_FUNCTIONS = {function.name for function in registry.functions() if registry.HOME_ACCESS in function.uses}


def home_access_key(template: StackTemplate) -> str:
    [found] = [logical_id for logical_id in template.of_type(KEY) if logical_id.startswith("HomeAccessKey")]
    return found


def templates_with_sources(synthesized: Synthesized, stack_name: str) -> list[tuple[StackTemplate, dict[str, Any]]]:
    """The stack's template and each nested one, with what the parent passes for each parameter."""
    parent = synthesized.templates[stack_name]
    passed: dict[str, Any] = {}
    for resource in parent.of_type(NESTED).values():
        passed.update(resource["Properties"].get("Parameters", {}))
    found = [(parent, {})]
    for path in synthesized.outdir.glob(f"{stack_name.replace('-', '')}*.nested.template.json"):
        found.append((StackTemplate(json.loads(path.read_text())), passed))
    return found


def key_grants(synthesized: Synthesized, stack_name: str) -> dict[str, set[str]]:
    """Function (handler module) → the actions its role may perform on the home-access key."""
    key = home_access_key(synthesized.templates[stack_name])
    grants: dict[str, set[str]] = {}
    for template, passed in templates_with_sources(synthesized, stack_name):
        for name, function_id in template.python_functions().items():
            actions = grants.setdefault(name, set())
            for statement in template.statements_of(function_id):
                resources = referenced_ids(statement["Resource"])
                resources |= {source for ref in resources if ref in passed for source in referenced_ids(passed[ref])}
                if key in resources and statement["Effect"] == "Allow":
                    listed = statement["Action"]
                    actions |= {listed} if isinstance(listed, str) else set(listed)
                    assert statement["Condition"] == {
                        "StringEquals": {"kms:EncryptionContext:purpose": "home_access"}
                    }, name
    return grants


def test_the_home_access_functions_are_the_ones_declared() -> None:
    assert {"put_home", "get_home", "get_booking_care", "export_me"} == HOME_ACCESS_FUNCTIONS


@pytest.mark.parametrize("which", ["primary", "secondary"])
def test_only_the_home_access_functions_may_use_the_key(synthesized: Synthesized, which: str) -> None:
    grants = key_grants(synthesized, getattr(synthesized, which))

    assert {"get_booking", "list_home_access_log", "get_dog", "delete_me"} <= set(grants)  # all functions seen
    assert {name for name, actions in grants.items() if actions} == HOME_ACCESS_FUNCTIONS
    for name in HOME_ACCESS_FUNCTIONS:
        assert grants[name] == {"kms:GenerateDataKey", "kms:Decrypt"}, name
    assert "kms:Decrypt" not in grants["get_booking"]


def test_no_other_role_or_principal_may_use_the_key(synthesized: Synthesized) -> None:
    template = synthesized.templates[synthesized.primary]
    key = home_access_key(template)
    for statement in template.iam_statements():
        assert key not in referenced_ids(statement.get("Resource")) or statement["Condition"], statement
    [account_only] = template.properties(key)["KeyPolicy"]["Statement"]
    assert account_only["Action"] == "kms:*" and "Service" not in account_only["Principal"]


@pytest.mark.parametrize("which", ["primary", "secondary"])
def test_the_key_is_customer_managed_multi_region_and_rotated(synthesized: Synthesized, which: str) -> None:
    template = synthesized.templates[getattr(synthesized, which)]
    properties = template.properties(home_access_key(template))

    assert properties["EnableKeyRotation"] is True
    assert properties["MultiRegion"] is True


def test_the_home_access_functions_name_the_key_in_their_environment(synthesized: Synthesized) -> None:
    key = home_access_key(synthesized.templates[synthesized.primary])
    seen = set()
    for template, passed in templates_with_sources(synthesized, synthesized.primary):
        for name, function_id in template.python_functions().items():
            variables = template.properties(function_id)["Environment"]["Variables"]
            if name in HOME_ACCESS_FUNCTIONS:
                refs = referenced_ids(variables[ENV])
                assert key in refs | {source for ref in refs if ref in passed for source in referenced_ids(passed[ref])}
                seen.add(name)
            else:
                assert ENV not in variables, name
    assert seen == HOME_ACCESS_FUNCTIONS
