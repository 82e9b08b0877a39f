"""The compliance checks every synth runs (cdk-nag's AWS Solutions pack) and how findings are acknowledged."""

from __future__ import annotations

import re
from typing import Any

from aws_cdk import Acknowledgment, App, CfnElement, Names, Stack, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

PACK = "AwsSolutions"


def add_checks(app: App) -> None:
    """Fail the synth on any AWS Solutions finding that no construct acknowledges with a reason."""
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    """Accept finding `rule` (e.g. `IAM5[Resource::*]`) on `scope` and everything below it."""
    Validations.of(scope).acknowledge(Acknowledgment(id=f"{PACK}::{PACK}-{rule}", reason=reason))


def finding_text(scope: IConstruct, value: str, consumer: IConstruct | None = None) -> str:
    """How cdk-nag writes `value` (an ARN with tokens) in a finding: `arn:aws:sqs:<AWS::Region>:...:<Queue1234.Arn>`.

    `consumer`: the construct whose policy holds the value. In a nested stack of `scope`'s stack
    (infra/functions.py: ServiceFunctions) a reference arrives as a parameter, and cdk-nag names that:
    `<referencetoDogWalkdevprimaryQueue1234Arn>`.
    """
    producer = Stack.of(scope)
    nested_in = Stack.of(consumer) if consumer is not None else producer
    parent = nested_in.nested_stack_parent
    names = None
    if nested_in.node.path != producer.node.path and parent is not None and parent.node.path == producer.node.path:
        names = _unique_ids(producer)
    return _render(producer.resolve(value), names)


# stack path → {logical id: the construct's unique id}, which names a reference's nested-stack parameter
_UNIQUE_IDS: dict[str, dict[str, str]] = {}


def _unique_ids(stack: Stack) -> dict[str, str]:
    if stack.node.path not in _UNIQUE_IDS:
        _UNIQUE_IDS[stack.node.path] = {
            stack.resolve(element.logical_id): Names.node_unique_id(element.node)
            for element in stack.node.find_all()
            if isinstance(element, CfnElement) and Stack.of(element) is stack
        }
    return _UNIQUE_IDS[stack.node.path]


def _render(resolved: Any, names: dict[str, str] | None = None) -> str:
    if isinstance(resolved, str):
        return resolved
    if isinstance(resolved, dict) and "Ref" in resolved:
        if names is not None and resolved["Ref"] in names:  # CDK's parameter: reference-to-<unique id>Ref
            return f"<referenceto{names[resolved['Ref']]}Ref>"
        return f"<{resolved['Ref']}>"
    if isinstance(resolved, dict) and "Fn::GetAtt" in resolved:
        logical_id, attribute = resolved["Fn::GetAtt"]
        if names is not None and logical_id in names:
            return f"<referenceto{names[logical_id]}{re.sub(r'[^A-Za-z0-9]', '', attribute)}>"
        return f"<{logical_id}.{attribute}>"
    if isinstance(resolved, dict) and "Fn::Join" in resolved:
        separator, parts = resolved["Fn::Join"]
        return str(separator).join(_render(part, names) for part in parts)
    raise ValueError(f"cannot render {resolved!r} as cdk-nag does")
