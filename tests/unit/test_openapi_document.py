"""`openapi.json` in the repository is the document the registry and the handlers produce, so an
API change is always visible in a diff (`make openapi` writes it anew)."""

from __future__ import annotations

from local.openapi import openapi_text
from tests.conftest import REPO


def test_the_committed_openapi_document_is_what_the_code_produces() -> None:
    committed = (REPO / "openapi.json").read_text()

    assert committed == openapi_text(), "the API changed: run `make openapi` and commit openapi.json"
