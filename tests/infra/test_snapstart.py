"""SnapStart on the published versions (the versions the `live` aliases serve) of the endpoints
and of the two authorizers, nowhere else: queue consumers and schedules start as before."""

from __future__ import annotations

import pytest
from stack_template import StackTemplate

from dogwalk import registry

pytestmark = pytest.mark.infra


AUTHORIZERS = (registry.AUTHORIZER, registry.DEVICE_AUTHORIZER)


def test_the_endpoints_and_the_authorizers_and_only_they_start_from_a_snapshot(
    regional: list[StackTemplate],
) -> None:
    endpoints = {endpoint.name for endpoint in registry.ENDPOINTS} | {authorizer.name for authorizer in AUTHORIZERS}
    for template in regional:
        functions = template.python_functions()
        on_versions = {"ApplyOn": "PublishedVersions"}
        snapping = {name for name, logical_id in functions.items()
                    if template.properties(logical_id).get("SnapStart") == on_versions}  # fmt: skip
        assert snapping == endpoints & set(functions)
        assert endpoints <= set(functions)


@pytest.mark.parametrize("declaration", AUTHORIZERS, ids=lambda declaration: declaration.name)
def test_each_authorizer_has_a_live_alias_on_a_published_version(
    regional: list[StackTemplate], declaration: registry.Function
) -> None:
    for template in regional:
        authorizer = template.python_functions()[declaration.name]
        aliases = [alias["Properties"] for alias in template.of_type("AWS::Lambda::Alias").values()
                   if alias["Properties"]["FunctionName"] == {"Ref": authorizer}]  # fmt: skip
        assert [alias["Name"] for alias in aliases] == ["live"]
        [version] = [version["Properties"] for version in template.of_type("AWS::Lambda::Version").values()
                     if version["Properties"]["FunctionName"] == {"Ref": authorizer}]  # fmt: skip
        assert version["Description"].startswith("dogwalk ")
