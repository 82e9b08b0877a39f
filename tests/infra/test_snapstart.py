"""SnapStart on the endpoints' published versions (the versions the `live` aliases serve), nowhere
else: queue consumers, schedules and authorizers start as before."""

from __future__ import annotations

import pytest
from stack_template import StackTemplate

from dogwalk import registry

pytestmark = pytest.mark.infra


def test_every_endpoint_and_only_the_endpoints_start_from_a_snapshot(regional: list[StackTemplate]) -> None:
    endpoints = {endpoint.name for endpoint in registry.ENDPOINTS}
    for template in regional:
        functions = template.python_functions()
        on_versions = {"ApplyOn": "PublishedVersions"}
        snapping = {name for name, logical_id in functions.items()
                    if template.properties(logical_id).get("SnapStart") == on_versions}  # fmt: skip
        assert snapping == endpoints & set(functions)
        assert endpoints <= set(functions)
