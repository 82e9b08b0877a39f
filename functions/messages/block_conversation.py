"""POST /v1/conversations/{conversation_id}/block: either party blocks the conversation; no more
messages either way (403 `blocked`)."""

from aws_lambda_powertools.event_handler import Response

from dogwalk.edge.api import Route
from dogwalk.messages import conversations

route = Route(__name__)


@route.handle
def block_conversation(conversation_id: str) -> Response[None]:
    conversations.block(conversation_id, route.principal.user_id)
    return Response(status_code=204)


lambda_handler = route.lambda_handler
