"""The OpenAPI document of every registered endpoint, generated from the handlers themselves."""

from __future__ import annotations

import importlib
import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer
from pydantic import BaseModel

from dogwalk import registry


class FieldProblem(BaseModel):
    loc: list[str | int]
    msg: str


class Problem(BaseModel):
    """RFC 9457 problem details, as every error of the API is answered (see `dogwalk.edge.api.problem`).

    Only the document needs the model; the functions write the same fields without building it."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    request_id: str
    errors: list[FieldProblem] | None = None


def openapi_text() -> str:
    """The document as `openapi.json` in the repository holds it (`make openapi` writes it)."""
    return json.dumps(openapi_document(), indent=2, ensure_ascii=False) + "\n"


def openapi_document() -> dict[str, Any]:
    app = APIGatewayRestResolver(enable_validation=True)
    for endpoint in registry.ENDPOINTS:
        importlib.import_module(endpoint.module).route.register(app)
    schema = json.loads(
        app.get_openapi_json_schema(
            title="Dog Walking Platform API",
            version="1.0.0",
            description="The contract the owner app, the walker app and walker phones program against.",
            security_schemes={"bearerAuth": HTTPBearer(bearerFormat="JWT")},
        )
    )
    for item in schema["paths"].values():
        for operation in item.values():
            # Powertools describes `Response[None]` as a JSON null; 204 has no body at all
            operation["responses"].get("204", {}).pop("content", None)
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(schemas["Problem"].pop("$defs", {}))
    return schema
