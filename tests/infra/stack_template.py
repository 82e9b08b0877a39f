"""Questions the infra tests ask of the synthesized CloudFormation templates (plain JSON)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.deployment import Deployment

LAMBDA = "AWS::Lambda::Function"
PYTHON_RUNTIME = "python3.12"


def referenced_ids(value: Any) -> set[str]:
    """Logical ids that `value` points at through `Ref` or `Fn::GetAtt`, at any depth."""
    found: set[str] = set()
    if isinstance(value, dict):
        if isinstance(value.get("Ref"), str):
            found.add(value["Ref"])
        if isinstance(value.get("Fn::GetAtt"), list):
            found.add(value["Fn::GetAtt"][0])
        for item in value.values():
            found |= referenced_ids(item)
    elif isinstance(value, list):
        for item in value:
            found |= referenced_ids(item)
    return found


@dataclass(frozen=True)
class StackTemplate:
    template: dict[str, Any]

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        resources: dict[str, dict[str, Any]] = self.template["Resources"]
        return resources

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {key: value for key, value in self.resources.items() if value["Type"] == resource_type}

    def topic(self, name: str) -> str:
        """The logical id of the SNS topic called `name`."""
        [logical_id] = [
            logical_id
            for logical_id, topic in self.of_type("AWS::SNS::Topic").items()
            if topic["Properties"].get("TopicName") == name
        ]
        return logical_id

    def only(self, resource_type: str) -> tuple[str, dict[str, Any]]:
        matches = self.of_type(resource_type)
        assert len(matches) == 1, f"expected one {resource_type}, found {sorted(matches)}"
        return next(iter(matches.items()))

    def secret(self, purpose: str) -> str:
        """The logical id of the Secrets Manager secret named `dogwalk/<stage>/<purpose>`."""
        matches = [
            logical_id
            for logical_id, resource in self.of_type("AWS::SecretsManager::Secret").items()
            if str(resource["Properties"].get("Name", "")).endswith(f"/{purpose}")
        ]
        assert len(matches) == 1, f"expected one secret for {purpose}, found {matches}"
        return matches[0]

    def secret_actions(self, function_id: str, secret_id: str) -> set[str]:
        """The actions the function's role may perform through statements that point at the secret."""
        actions: set[str] = set()
        for statement in self.statements_of(function_id):
            if secret_id in referenced_ids(statement["Resource"]):
                listed = statement["Action"]
                actions |= {listed} if isinstance(listed, str) else set(listed)
        return actions

    def python_functions(self) -> dict[str, str]:
        """Registry name (the handler's module) → logical id, for every python3.12 function."""
        functions: dict[str, str] = {}
        for logical_id, resource in self.of_type(LAMBDA).items():
            properties = resource["Properties"]
            if properties.get("Runtime") == PYTHON_RUNTIME:
                # `<service>/<name>.lambda_handler`
                name = properties["Handler"].removesuffix(".lambda_handler").rpartition("/")[2]
                assert name not in functions, f"two functions with handler module {name}"
                functions[name] = logical_id
        return functions

    def live_alias(self, name: str) -> str:
        """The logical id of the `live` alias of the function with that registry name (this stack's)."""
        function = self.python_functions()[name]
        [alias] = [logical_id for logical_id, alias in self.of_type("AWS::Lambda::Alias").items()
                   if alias["Properties"]["FunctionName"] == {"Ref": function}]  # fmt: skip
        return alias

    def properties(self, logical_id: str) -> dict[str, Any]:
        properties: dict[str, Any] = self.resources[logical_id]["Properties"]
        return properties

    def statements_of(self, function_id: str) -> list[dict[str, Any]]:
        """Every IAM statement attached to the function's execution role."""
        roles = referenced_ids(self.properties(function_id)["Role"])
        statements: list[dict[str, Any]] = []
        for policy in self.of_type("AWS::IAM::Policy").values():
            if referenced_ids(policy["Properties"]["Roles"]) & roles:
                statements.extend(policy["Properties"]["PolicyDocument"]["Statement"])
        for role_id in roles:
            for inline in self.properties(role_id).get("Policies", []):
                statements.extend(inline["PolicyDocument"]["Statement"])
        return statements

    def iam_statements(self) -> list[dict[str, Any]]:
        """Every statement of an identity policy in the template: policy resources and roles' inline policies."""
        statements: list[dict[str, Any]] = []
        for policy in self.of_type("AWS::IAM::Policy").values():
            statements.extend(policy["Properties"]["PolicyDocument"]["Statement"])
        for role in self.of_type("AWS::IAM::Role").values():
            for inline in role["Properties"].get("Policies", []):
                statements.extend(inline["PolicyDocument"]["Statement"])
        return statements

    def _is_api_root(self, resource_id: Any) -> bool:
        """The API's root resource: the RestApi's `RootResourceId`, or (in a nested stack) a parameter for it."""
        return "Fn::GetAtt" in resource_id or resource_id["Ref"] not in self.resources

    def resource_path(self, resource_id: str) -> str:
        """The full path of an `AWS::ApiGateway::Resource`, walking up to the API's root."""
        properties = self.properties(resource_id)
        parent = properties["ParentId"]
        prefix = "" if self._is_api_root(parent) else self.resource_path(parent["Ref"])
        return f"{prefix}/{properties['PathPart']}"

    def api_methods(self) -> dict[tuple[str, str], dict[str, Any]]:
        """(HTTP method, path) → the `AWS::ApiGateway::Method` properties."""
        methods = {}
        for resource in self.of_type("AWS::ApiGateway::Method").values():
            properties = resource["Properties"]
            parent = properties["ResourceId"]
            path = "/" if self._is_api_root(parent) else self.resource_path(parent["Ref"])
            methods[(properties["HttpMethod"], path)] = properties
        return methods


@dataclass(frozen=True)
class Synthesized:
    outdir: Path
    deployment: Deployment
    primary: str
    secondary: str
    templates: dict[str, StackTemplate]

    def template_file(self, stack_name: str) -> Path:
        return self.outdir / f"{stack_name}.template.json"


def ops_topic(template: StackTemplate, stage: str) -> str:
    """The logical id of the stage's ops topic, where every alarm notifies."""
    return template.topic(f"dogwalk-{stage}-ops")
