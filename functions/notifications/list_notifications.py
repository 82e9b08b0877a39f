"""GET /v1/notifications: your in-app inbox, newest first, a page at a time."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel

from dogwalk.adapters.pagination import DEFAULT_LIMIT, MAX_LIMIT
from dogwalk.edge.api import Route
from dogwalk.edge.schemas import NotificationOut
from dogwalk.notifications import inbox

route = Route(__name__)


class NotificationPage(BaseModel):
    items: list[NotificationOut]
    next_cursor: str | None


@route.handle
def list_notifications(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> NotificationPage:
    rows, next_cursor = inbox.list_page(route.principal.user_id, limit, cursor)
    return NotificationPage(items=[NotificationOut.model_validate(row) for row in rows], next_cursor=next_cursor)


lambda_handler = route.lambda_handler
