"""The data tier's nested templates (one per regional stack), read from the synthesized output."""

from __future__ import annotations

import json

from stack_template import StackTemplate, Synthesized


def data_template(synthesized: Synthesized, stack_name: str) -> StackTemplate:
    """The template of the regional stack's `Data` nested stack."""
    [path] = synthesized.outdir.glob(f"{stack_name.replace('-', '')}Data*.nested.template.json")
    return StackTemplate(json.loads(path.read_text()))
