"""GET /v1/conversations: the caller's conversations (as owner or as walker), latest activity
first, each with the caller's unread count; paged."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel

from dogwalk.adapters.pagination import DEFAULT_LIMIT, MAX_LIMIT
from dogwalk.edge.api import Route
from dogwalk.edge.schemas import ConversationOut
from dogwalk.messages import conversations

route = Route(__name__)


class ConversationPage(BaseModel):
    items: list[ConversationOut]
    next_cursor: str | None


@route.handle
def list_conversations(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> ConversationPage:
    caller = route.principal
    found, next_cursor = conversations.list_for(caller.user_id, caller.role, limit, cursor)
    return ConversationPage(items=[ConversationOut.model_validate(row) for row in found], next_cursor=next_cursor)


lambda_handler = route.lambda_handler
