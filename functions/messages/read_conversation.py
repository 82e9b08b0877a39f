"""POST /v1/conversations/{conversation_id}/read: the caller has read the conversation; their
unread count is 0 again."""

from aws_lambda_powertools.event_handler import Response

from dogwalk.edge.api import Route
from dogwalk.messages import conversations

route = Route(__name__)


@route.handle
def read_conversation(conversation_id: str) -> Response[None]:
    conversations.mark_read(conversation_id, route.principal.user_id)
    return Response(status_code=204)


lambda_handler = route.lambda_handler
