"""A regional stack's nested stacks: their templates, and what their parameters and outputs stand for."""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stack_template import StackTemplate, Synthesized, referenced_ids

NESTED = "AWS::CloudFormation::Stack"
# the construct id of the REST API's routes (infra/api.py: ApiRoutes)
API_ROUTES = "ApiRoutes"
# the construct id of the function factory, under which each nested service's functions are a stack
FUNCTIONS = "Functions"
# the construct id of the endpoints' canary deployments; a nested service's are `Canary<Service>`
CANARY = "Canary"


@dataclass(frozen=True)
class Nested:
    """A nested stack seen from its parent: the `AWS::CloudFormation::Stack` resource and its template."""

    parent: StackTemplate
    resource_id: str
    template: StackTemplate
    # the nested template's file, in the cloud assembly
    path: Path

    def parameter_source(self, value: Any) -> set[str]:
        """The parent's logical ids behind the nested template's `{"Ref": <parameter>}`s in `value`."""
        parameters = self.parent.properties(self.resource_id).get("Parameters", {})
        found: set[str] = set()
        for name in referenced_ids(value):
            if name in parameters:
                found |= referenced_ids(parameters[name])
        return found

    def parameter_values(self, value: Any) -> list[Any]:
        """What the parent passes for the parameters that `value` refers to (its `Ref`s, `Fn::GetAtt`s...)."""
        parameters = self.parent.properties(self.resource_id).get("Parameters", {})
        return [parameters[name] for name in sorted(referenced_ids(value)) if name in parameters]

    def output_target(self, value: Any) -> set[str]:
        """The nested template's logical ids behind the parent's `Fn::GetAtt [<nested stack>, Outputs.X]`."""
        found: set[str] = set()
        for get_att in _get_atts(value):
            resource, attribute = get_att
            if resource == self.resource_id and attribute.startswith("Outputs."):
                output = self.template.template["Outputs"][attribute.removeprefix("Outputs.")]
                found |= referenced_ids(output["Value"])
        return found


def _get_atts(value: Any) -> list[list[str]]:
    if isinstance(value, dict):
        found = [value["Fn::GetAtt"]] if isinstance(value.get("Fn::GetAtt"), list) else []
        for item in value.values():
            found += _get_atts(item)
        return found
    if isinstance(value, list):
        return [get_att for item in value for get_att in _get_atts(item)]
    return []


def nested(
    synthesized: Synthesized, stack_name: str, construct_path: str, *, parent: StackTemplate | None = None
) -> Nested:
    """The nested stack that `stack_name` creates at construct path `construct_path` ("Canary", "Functions/Care").

    Exactly that one: `Canary` is not `CanaryCare`. `parent` replaces the stack's own template as
    the parent seen (`with_service_functions`'s view of it).
    """
    parent = parent if parent is not None else synthesized.templates[stack_name]
    *_, construct_id = construct_path.split("/")
    joined = construct_path.replace("/", "")
    file_name = re.compile(rf"{re.escape(stack_name.replace('-', ''))}{joined}[0-9A-F]{{8}}\.nested\.template\.json")
    [path] = [path for path in synthesized.outdir.iterdir() if file_name.fullmatch(path.name)]
    resource = re.compile(rf"{joined}NestedStack{construct_id}NestedStackResource[0-9A-F]{{8}}")
    [resource_id] = [logical_id for logical_id in parent.of_type(NESTED) if resource.fullmatch(logical_id)]
    return Nested(parent, resource_id, StackTemplate(json.loads(path.read_text())), path)


def service_function_stacks(synthesized: Synthesized, stack_name: str) -> list[Nested]:
    """The nested stacks of the stack's nested services' functions (infra/functions.py ServiceFunctions)."""
    prefix = f"{stack_name.replace('-', '')}{FUNCTIONS}"
    services = sorted(
        match.group(1)
        for path in synthesized.outdir.iterdir()
        if (
            match := re.fullmatch(
                rf"{re.escape(prefix)}([A-Z][A-Za-z0-9]*?)[0-9A-F]{{8}}\.nested\.template\.json", path.name
            )
        )
    )
    return [nested(synthesized, stack_name, f"{FUNCTIONS}/{service}") for service in services]


def canary_stacks(synthesized: Synthesized, stack_name: str, *, parent: StackTemplate | None = None) -> list[Nested]:
    """The stack's canary deployment stacks (infra/canary.py): `Canary`, and `Canary<Service>` per nested service."""
    prefix = re.escape(f"{stack_name.replace('-', '')}")
    construct_ids = sorted(
        match.group(1)
        for path in synthesized.outdir.iterdir()
        if (match := re.fullmatch(rf"{prefix}({CANARY}[A-Za-z0-9]*?)[0-9A-F]{{8}}\.nested\.template\.json", path.name))
    )
    return [nested(synthesized, stack_name, construct_id, parent=parent) for construct_id in construct_ids]


def with_service_functions(synthesized: Synthesized, stack_name: str) -> StackTemplate:
    """The regional stack with its service function stacks inlined: every function where the tests look.

    The parent's template, less the `AWS::CloudFormation::Stack` of each nested service's functions,
    plus that stack's resources with each `Ref` to a parameter replaced by what the parent passes
    for it; the parent's (and so its other nested stacks') `Fn::GetAtt [<service stack>, Outputs.X]`
    become the output's value. A function then reads as if it were made in the parent: its role,
    log group, statements and environment point at the parent's logical ids, and it depends on what
    its stack resource depends on (the migrations).
    """
    parent = synthesized.templates[stack_name]
    children = service_function_stacks(synthesized, stack_name)
    outputs: dict[tuple[str, str], Any] = {}
    resources: dict[str, dict[str, Any]] = {}
    for child in children:
        passed = parent.properties(child.resource_id).get("Parameters", {})
        inlined = _substitute(child.template.template, functools.partial(_parameter, passed=passed))
        for name, output in inlined.get("Outputs", {}).items():
            outputs[(child.resource_id, f"Outputs.{name}")] = output["Value"]
        # CloudFormation creates a nested stack's resources after what the stack resource depends on
        after = parent.resources[child.resource_id].get("DependsOn", [])
        for resource in inlined["Resources"].values():
            depends_on = resource.get("DependsOn", [])
            resource["DependsOn"] = sorted({*([depends_on] if isinstance(depends_on, str) else depends_on), *after})
        clashes = set(inlined["Resources"]) & (set(parent.resources) | set(resources))
        assert not clashes, f"logical ids of {child.resource_id} also in the parent: {sorted(clashes)}"
        resources.update(inlined["Resources"])
    template = _substitute(parent.template, functools.partial(_output, outputs=outputs))
    template["Resources"] = {
        logical_id: resource
        for logical_id, resource in template["Resources"].items()
        if logical_id not in {child.resource_id for child in children}
    } | resources
    return StackTemplate(template)


def _parameter(node: dict[str, Any], passed: dict[str, Any]) -> Any:
    reference = node.get("Ref")
    return passed[reference] if len(node) == 1 and isinstance(reference, str) and reference in passed else node


def _output(node: dict[str, Any], outputs: dict[tuple[str, str], Any]) -> Any:
    get_att = node.get("Fn::GetAtt")
    if len(node) == 1 and isinstance(get_att, list) and len(get_att) == 2 and tuple(get_att) in outputs:
        return outputs[(get_att[0], get_att[1])]
    return node


def _substitute(value: Any, replace: Callable[[dict[str, Any]], Any]) -> Any:
    """A copy of `value` in which each dict is first offered to `replace` (which returns it, or what stands for it)."""
    if isinstance(value, dict):
        replaced = replace(value)
        if replaced is not value:
            return copy.deepcopy(replaced)
        return {key: _substitute(item, replace) for key, item in value.items()}
    if isinstance(value, list):
        return [_substitute(item, replace) for item in value]
    return value


def all_nested(synthesized: Synthesized, stack_name: str) -> dict[str, StackTemplate]:
    """Every nested template of the stack (by file name), whichever construct made it."""
    return {
        path.name: StackTemplate(json.loads(path.read_text()))
        for path in synthesized.outdir.glob(f"{stack_name.replace('-', '')}*.nested.template.json")
    }
