"""What every endpoint gets from the shared HTTP adapter: problem+json for every error, 400 for
malformed JSON, 422 with the field list, 413 over 256 KiB, role checks, a 500 that says nothing
but the request id, and X-Request-Id everywhere. Exercised through a small endpoint of the test's
own, declared like a registry entry."""

from __future__ import annotations

import json
import logging
from typing import Any, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field

from dogwalk import registry
from dogwalk.edge.api import Route
from dogwalk.errors import Conflict
from local.api_gateway import rest_event
from local.runtime import LambdaContext

ROUTE = registry.Endpoint(
    name="create_thing", method="POST", path="/v1/things/{thing_id}", roles=registry.OWNER, status_code=201
)
route = Route(ROUTE)


class ThingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=50)
    size: Literal["small", "large"]


class ThingOut(BaseModel):
    id: str
    name: str
    owner_id: str


@route.handle
def create_thing(thing_id: str, thing: ThingIn) -> ThingOut:
    if thing.name == "boom":
        raise RuntimeError("database password is hunter2")
    if thing.name == "taken":
        raise Conflict("That name is taken.", code="name_taken")
    return ThingOut(id=thing_id, name=thing.name, owner_id=route.principal.user_id)


def call(body: bytes | str, role: str | None = "owner") -> tuple[int, dict[str, list[str]], Any]:
    raw = body.encode() if isinstance(body, str) else body
    event = rest_event(
        "POST", "/v1/things/t1", "", [("Content-Type", "application/json")], raw, ROUTE, {"thing_id": "t1"},
        "203.0.113.7", "req-123",
    )  # fmt: skip
    if role:
        event["requestContext"]["authorizer"] = {"sub": "user-1", "role": role, "principalId": "user-1"}
    result = route.lambda_handler(event, LambdaContext("create_thing"))
    headers = result["multiValueHeaders"]
    return result["statusCode"], headers, json.loads(result["body"])


def test_valid_request_reaches_the_handler_with_the_caller() -> None:
    status, headers, body = call(json.dumps({"name": "Rex", "size": "small"}))

    assert status == 201
    assert body == {"id": "t1", "name": "Rex", "owner_id": "user-1"}
    assert headers["X-Request-Id"] == ["req-123"]


def test_malformed_json_is_400_problem() -> None:
    status, headers, body = call("{not json")

    assert status == 400
    assert headers["Content-Type"] == ["application/problem+json"]
    assert body["code"] == "bad_request"
    assert body["request_id"] == "req-123"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "", "size": "small"}, "name"),
        ({"name": "Rex", "size": "huge"}, "size"),
        ({"name": "Rex", "size": "small", "extra": 1}, "extra"),
        ({"size": "small"}, "name"),
    ],
)
def test_invalid_fields_are_422_with_the_field_list(payload: dict[str, Any], field: str) -> None:
    status, headers, body = call(json.dumps(payload))

    assert status == 422
    assert headers["Content-Type"] == ["application/problem+json"]
    assert body["code"] == "validation_error"
    assert any(field in error["loc"] for error in body["errors"]), body["errors"]
    assert set(body) == {"type", "title", "status", "detail", "code", "request_id", "errors"}


def test_body_over_256_kib_is_413() -> None:
    status, _, body = call(json.dumps({"name": "x" * (256 * 1024), "size": "small"}))

    assert status == 413
    assert body["code"] == "payload_too_large"


def test_domain_error_keeps_its_code() -> None:
    status, _, body = call(json.dumps({"name": "taken", "size": "small"}))

    assert status == 409
    assert body["code"] == "name_taken"


def test_unexpected_error_is_500_with_only_the_request_id(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR):
        status, _, body = call(json.dumps({"name": "boom", "size": "small"}))

    assert status == 500
    assert body["code"] == "internal_error"
    assert body["request_id"] == "req-123"
    assert "hunter2" not in json.dumps(body)


def test_a_role_the_route_does_not_allow_is_403() -> None:
    status, _, body = call(json.dumps({"name": "Rex", "size": "small"}), role="walker")

    assert status == 403
    assert body["code"] == "forbidden"


def test_no_principal_on_a_protected_route_is_401() -> None:
    status, _, _ = call(json.dumps({"name": "Rex", "size": "small"}), role=None)

    assert status == 401


def test_a_body_that_is_not_json_is_415() -> None:
    event = rest_event(
        "POST", "/v1/things/t1", "", [("Content-Type", "text/plain")], b'{"name": "Rex", "size": "small"}', ROUTE,
        {"thing_id": "t1"}, "203.0.113.7", "req-123",
    )  # fmt: skip
    event["requestContext"]["authorizer"] = {"sub": "user-1", "role": "owner", "principalId": "user-1"}

    result = route.lambda_handler(event, LambdaContext("create_thing"))

    assert result["statusCode"] == 415
    assert json.loads(result["body"])["code"] == "unsupported_media_type"


def test_a_body_that_is_not_utf8_is_400() -> None:
    status, _, body = call(b'{"name": "\xff\xfe"}')

    assert status == 400
    assert body["code"] == "bad_request"


@pytest.mark.parametrize(
    "name", ['"Rex\\u0000"', '"Rex\\ud83d"', '"\\ude00Rex"'], ids=["nul", "lone-high-surrogate", "lone-low-surrogate"]
)
def test_text_postgresql_cannot_store_is_400(name: str) -> None:
    status, _, body = call('{"name": ' + name + ', "size": "small"}')

    assert status == 400
    assert body["code"] == "bad_request"


def test_a_surrogate_pair_is_ordinary_text() -> None:
    status, _, body = call('{"name": "Rex \\ud83d\\udc15", "size": "small"}')

    assert status == 201
    assert body["name"] == "Rex \N{DOG}"
