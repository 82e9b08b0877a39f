"""$connect of the live view's WebSocket API (`/v1/ws?token=<access token>`): the access token is
verified as the REST API's authorizer verifies it, and a suspended account is refused as the REST
routes refuse it; the connection is then remembered with its user. Refusing is answering a
non-2xx status: API Gateway then fails the upgrade with that status and nothing is stored.

The token is read once, here: a connection lives up to 2 hours, longer than the token, and each
subscribe checks the suspension again."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.data_classes.api_gateway_websocket_event import APIGatewayWebSocketEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from dogwalk.adapters import snapstart
from dogwalk.adapters.observability import instrument, logger, metrics
from dogwalk.auth import principals
from dogwalk.errors import Unauthorized
from dogwalk.tracking import live
from dogwalk.tracking.registry import WS_CONNECT


def ws_connect(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = APIGatewayWebSocketEvent(event)
    try:
        claims = principals.active(request.query_string_parameters.get("token"))
    except Unauthorized as exc:
        suspended = exc.code == principals.SUSPENDED
        logger.info("live view connection refused", extra={"reason": "suspended" if suspended else exc.detail})
        if not suspended:
            metrics.add_metric(name="TokensRefused", unit="Count", value=1)
        return {"statusCode": 403 if suspended else 401}
    live.connect(request.request_context.connection_id, claims.user_id, claims.role)
    return {"statusCode": 200}


lambda_handler = instrument(ws_connect, correlation_paths.API_GATEWAY_REST)
# it starts from a snapshot (infra/functions.py); `principals.active` imports the suspension check late
snapstart.prime("dogwalk.auth.suspensions", uses=WS_CONNECT.uses)
