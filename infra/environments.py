"""Environments (dev / staging / prod): a block of settings in `cdk.json` selected by the `environment` context.

`cdk.json` holds the shared defaults at the top of its `context` and one block per environment
under `environments`; `-c environment=prod` selects a block without any code edit. A block's
values replace the top-level defaults; a value given on the command line (`-c key=value`, one
that differs from cdk.json's own top-level value) wins over both.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import App

from infra.deployment import cdk_json_context

DEFAULT_ENVIRONMENT = "dev"


def environment_settings(app: App) -> dict[str, Any]:
    """The selected environment's block (empty when `cdk.json` has no `environments`)."""
    name = str(app.node.try_get_context("environment") or DEFAULT_ENVIRONMENT)
    environments = app.node.try_get_context("environments")
    if not environments:
        return {}
    if name not in environments:
        raise ValueError(f"CDK context environment={name!r} is not one of {sorted(environments)} (cdk.json)")
    block: dict[str, Any] = environments[name]
    return block


def apply_environment(app: App) -> None:
    """Put the selected environment's settings into the app's context, before any stack reads it.

    Must run before the app has children (CDK freezes the context once constructs exist).
    """
    defaults = cdk_json_context()
    for key, value in environment_settings(app).items():
        current = app.node.try_get_context(key)
        overridden = current is not None and (key not in defaults or current != defaults[key])
        if not overridden:
            app.node.set_context(key, value)
