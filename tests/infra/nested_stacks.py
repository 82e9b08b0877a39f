"""A regional stack's nested stacks: their templates, and what their parameters and outputs stand for."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from stack_template import StackTemplate, Synthesized, referenced_ids

NESTED = "AWS::CloudFormation::Stack"
# the construct id of the REST API's routes (infra/api.py: ApiRoutes)
API_ROUTES = "ApiRoutes"


@dataclass(frozen=True)
class Nested:
    """A nested stack seen from its parent: the `AWS::CloudFormation::Stack` resource and its template."""

    parent: StackTemplate
    resource_id: str
    template: StackTemplate

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


def nested(synthesized: Synthesized, stack_name: str, construct_id: str) -> Nested:
    """The nested stack that `stack_name` creates with construct id `construct_id`."""
    parent = synthesized.templates[stack_name]
    [path] = synthesized.outdir.glob(f"{stack_name.replace('-', '')}{construct_id}*.nested.template.json")
    [resource_id] = [
        logical_id
        for logical_id in parent.of_type(NESTED)
        if logical_id.startswith(f"{construct_id}NestedStack{construct_id}NestedStackResource")
    ]
    return Nested(parent, resource_id, StackTemplate(json.loads(path.read_text())))


def all_nested(synthesized: Synthesized, stack_name: str) -> dict[str, StackTemplate]:
    """Every nested template of the stack (by file name), whichever construct made it."""
    return {
        path.name: StackTemplate(json.loads(path.read_text()))
        for path in synthesized.outdir.glob(f"{stack_name.replace('-', '')}*.nested.template.json")
    }
