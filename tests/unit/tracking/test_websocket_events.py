"""The sample WebSocket events (`events/ws_*.json`, for `python -m local invoke`) are API
Gateway's, as Powertools parses them, and the local WebSocket API selects routes as API Gateway
does with `$request.body.action`."""

from __future__ import annotations

import json

import pytest
from aws_lambda_powertools.utilities.parser.models import (
    APIGatewayWebSocketConnectEventModel,
    APIGatewayWebSocketDisconnectEventModel,
    APIGatewayWebSocketMessageEventModel,
)
from pydantic import BaseModel

from dogwalk import registry
from local.websocket import route_key_of
from tests.conftest import REPO


@pytest.mark.parametrize(
    ("name", "model"),
    [
        ("ws_connect", APIGatewayWebSocketConnectEventModel),
        ("ws_subscribe", APIGatewayWebSocketMessageEventModel),
        ("ws_disconnect", APIGatewayWebSocketDisconnectEventModel),
    ],
)
def test_each_sample_event_is_its_routes(name: str, model: type[BaseModel]) -> None:
    event = json.loads((REPO / "events" / f"{name}.json").read_text())
    route = next(route for route in registry.WEBSOCKET_ROUTES if route.name == name)

    model.model_validate(event)
    assert event["requestContext"]["routeKey"] == route.route_key


@pytest.mark.parametrize(
    ("body", "route_key"),
    [
        ('{"action": "subscribe", "walk_id": "x"}', "subscribe"),
        ('{"walk_id": "x"}', None),
        ('{"action": 3}', None),
        ('{"action": "$connect"}', None),  # the reserved routes are not for frames
        ('["subscribe"]', None),
        ("subscribe", None),
        (None, None),
    ],
)
def test_the_route_is_the_bodys_action(body: str | None, route_key: str | None) -> None:
    assert route_key_of(body) == route_key
