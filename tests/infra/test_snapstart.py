"""SnapStart on the published versions (the versions the `live` aliases serve) of the endpoints,
the two authorizers and the live view's connect and subscribe, nowhere else: queue consumers,
schedules and `$disconnect` start as before."""

from __future__ import annotations

import pytest
from stack_template import StackTemplate

from dogwalk import registry
from dogwalk.tracking.registry import WS_CONNECT, WS_SUBSCRIBE

pytestmark = pytest.mark.infra


# besides the endpoints, what someone waits for: the two authorizers, the live view's connect and subscribe
WAITED_FOR = (registry.AUTHORIZER, registry.DEVICE_AUTHORIZER, WS_CONNECT, WS_SUBSCRIBE)


def test_the_endpoints_and_what_else_is_waited_for_and_only_they_start_from_a_snapshot(
    regional: list[StackTemplate],
) -> None:
    snapshotted = {endpoint.name for endpoint in registry.ENDPOINTS} | {function.name for function in WAITED_FOR}
    assert {function.name for function in registry.functions() if function.snap_start} == snapshotted
    for template in regional:
        functions = template.python_functions()
        on_versions = {"ApplyOn": "PublishedVersions"}
        snapping = {name for name, logical_id in functions.items()
                    if template.properties(logical_id).get("SnapStart") == on_versions}  # fmt: skip
        assert snapping == snapshotted & set(functions)
        assert snapshotted <= set(functions)


@pytest.mark.parametrize("declaration", WAITED_FOR, ids=lambda declaration: declaration.name)
def test_each_has_a_live_alias_on_a_published_version(
    regional: list[StackTemplate], declaration: registry.Function
) -> None:
    for template in regional:
        function = template.python_functions()[declaration.name]
        aliases = [alias["Properties"] for alias in template.of_type("AWS::Lambda::Alias").values()
                   if alias["Properties"]["FunctionName"] == {"Ref": function}]  # fmt: skip
        assert [alias["Name"] for alias in aliases] == ["live"]
        [version] = [version["Properties"] for version in template.of_type("AWS::Lambda::Version").values()
                     if version["Properties"]["FunctionName"] == {"Ref": function}]  # fmt: skip
        assert version["Description"].startswith("dogwalk ")
