"""$disconnect of the live view's WebSocket API: the connection and its subscriptions are
forgotten. API Gateway calls it on a best-effort basis; a connection it misses is forgotten on
the first push that meets 410 Gone, or when its keys expire."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.data_classes.api_gateway_websocket_event import APIGatewayWebSocketEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from dogwalk.adapters.observability import instrument
from dogwalk.tracking import live


def ws_disconnect(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    live.disconnect(APIGatewayWebSocketEvent(event).request_context.connection_id)
    return {"statusCode": 200}


lambda_handler = instrument(ws_disconnect, correlation_paths.API_GATEWAY_REST)
