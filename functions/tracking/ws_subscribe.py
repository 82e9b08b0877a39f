"""The live view's `subscribe` action: `{"action": "subscribe", "walk_id": ...}`. The booking's
owner, its walker or an admin is subscribed and told `subscribed`, then the walk's last position
(and `walk_completed` if it is over); anyone else, or a malformed message, gets one `error`
message, on this connection only, and nothing is subscribed. Everything goes back through the
management API: the route has no route response."""

from typing import Any, Literal
from uuid import UUID

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.data_classes.api_gateway_websocket_event import APIGatewayWebSocketEvent
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, ValidationError

from dogwalk.adapters import snapstart
from dogwalk.adapters.observability import instrument
from dogwalk.errors import DomainError
from dogwalk.tracking import live
from dogwalk.tracking.registry import WS_SUBSCRIBE


class Subscribe(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: Literal["subscribe"]
    walk_id: UUID


def ws_subscribe(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = APIGatewayWebSocketEvent(event)
    connection_id = request.request_context.connection_id
    try:
        wanted = Subscribe.model_validate_json(request.decoded_body or "")
        messages = live.watch(connection_id, str(wanted.walk_id))
    except ValidationError as exc:
        errors = [{"loc": ["body", *map(str, err["loc"])], "msg": err["msg"]} for err in exc.errors()]
        messages = [live.error("validation_error", 'Expected {"action": "subscribe", "walk_id": <uuid>}.', errors)]
    except DomainError as exc:
        messages = [live.error(exc.code, exc.detail)]
    for message in messages:
        if not live.send(connection_id, message):
            break
    return {"statusCode": 200}


lambda_handler = instrument(ws_subscribe, correlation_paths.API_GATEWAY_REST)
snapstart.prime(uses=WS_SUBSCRIBE.uses)  # it starts from a snapshot (infra/functions.py)
