"""SnapStart on the published versions (the versions the `live` aliases serve) of the endpoints
and of the token authorizer, nowhere else: queue consumers, schedules and the device authorizer
start as before."""

from __future__ import annotations

import pytest
from stack_template import StackTemplate

from dogwalk import registry

pytestmark = pytest.mark.infra


def test_the_endpoints_and_the_token_authorizer_and_only_they_start_from_a_snapshot(
    regional: list[StackTemplate],
) -> None:
    endpoints = {endpoint.name for endpoint in registry.ENDPOINTS} | {registry.AUTHORIZER.name}
    for template in regional:
        functions = template.python_functions()
        on_versions = {"ApplyOn": "PublishedVersions"}
        snapping = {name for name, logical_id in functions.items()
                    if template.properties(logical_id).get("SnapStart") == on_versions}  # fmt: skip
        assert snapping == endpoints & set(functions)
        assert endpoints <= set(functions)


def test_api_gateway_invokes_the_authorizers_live_alias_on_a_published_version(regional: list[StackTemplate]) -> None:
    for template in regional:
        authorizer = template.python_functions()[registry.AUTHORIZER.name]
        aliases = [alias["Properties"] for alias in template.of_type("AWS::Lambda::Alias").values()
                   if alias["Properties"]["FunctionName"] == {"Ref": authorizer}]  # fmt: skip
        assert [alias["Name"] for alias in aliases] == ["live"]
        [version] = [version["Properties"] for version in template.of_type("AWS::Lambda::Version").values()
                     if version["Properties"]["FunctionName"] == {"Ref": authorizer}]  # fmt: skip
        assert version["Description"].startswith("dogwalk ")
