"""The local platform's `/_local/...` routes (its mailbox, its stand-in identity providers) are no
part of the API: not in the registry, not in the OpenAPI document (generated or committed). The
CDK side is tests/infra/test_api.py's."""

from __future__ import annotations

import json

from dogwalk import registry
from local.openapi import openapi_document
from tests.conftest import REPO


def test_no_registered_route_is_local() -> None:
    assert [endpoint.path for endpoint in registry.ENDPOINTS if "_local" in endpoint.path] == []


def test_the_openapi_document_has_no_local_route() -> None:
    committed = json.loads((REPO / "openapi.json").read_text())

    for document in (openapi_document(), committed):
        assert [path for path in document["paths"] if "_local" in path] == []
        assert "/v1/auth/oidc/{provider}" in document["paths"]
