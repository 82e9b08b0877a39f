"""Migrations run through a custom resource before any other function is created or updated."""

from __future__ import annotations

import pytest
from stack_template import StackTemplate, referenced_ids

from dogwalk import registry
from infra.operations.migrations import RESOURCE_TYPE

pytestmark = pytest.mark.infra


def test_migration_custom_resource_invokes_the_migrator(regional: list[StackTemplate]) -> None:
    for template in regional:
        _, resource = template.only(RESOURCE_TYPE)
        [framework] = referenced_ids(resource["Properties"]["ServiceToken"])
        framework_environment = template.properties(framework)["Environment"]["Variables"]
        migrator = template.python_functions()[registry.MIGRATOR.name]
        assert referenced_ids(framework_environment["USER_ON_EVENT_FUNCTION_ARN"]) == {migrator}


def test_migrations_run_again_when_the_code_changes(primary: StackTemplate) -> None:
    _, resource = primary.only(RESOURCE_TYPE)
    fingerprint = resource["Properties"]["CodeFingerprint"]
    assert isinstance(fingerprint, str)
    assert len(fingerprint) == 64


def test_every_other_function_waits_for_the_migrations(regional: list[StackTemplate]) -> None:
    for template in regional:
        migrations_id, _ = template.only(RESOURCE_TYPE)
        for name, logical_id in template.python_functions().items():
            depends_on = template.resources[logical_id].get("DependsOn", [])
            assert (migrations_id in depends_on) == (name != registry.MIGRATOR.name), name


def test_scheduled_and_queue_functions_wait_for_the_migrations_too(extras: StackTemplate) -> None:
    migrations_id, _ = extras.only(RESOURCE_TYPE)
    functions = extras.python_functions()
    for name in ("rotate_signing_keys", "ingest_locations"):
        assert migrations_id in extras.resources[functions[name]]["DependsOn"]
