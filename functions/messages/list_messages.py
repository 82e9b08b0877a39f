"""GET /v1/conversations/{conversation_id}/messages: the conversation's messages, newest first,
paged; for its two parties only."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel

from dogwalk.adapters.pagination import DEFAULT_LIMIT, MAX_LIMIT
from dogwalk.edge.api import Route
from dogwalk.edge.schemas import MessageOut, message_out
from dogwalk.messages import conversations

route = Route(__name__)


class MessagePage(BaseModel):
    items: list[MessageOut]
    next_cursor: str | None


@route.handle
def list_messages(
    conversation_id: str,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> MessagePage:
    found, next_cursor = conversations.messages_page(conversation_id, route.principal.user_id, limit, cursor)
    return MessagePage(items=[message_out(row) for row in found], next_cursor=next_cursor)


lambda_handler = route.lambda_handler
