"""GET /v1/owners/me/home/access-log: which walker read your home's access details, newest first, paged."""

from datetime import datetime
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel

from dogwalk.adapters.pagination import DEFAULT_LIMIT, MAX_LIMIT
from dogwalk.care import visits
from dogwalk.edge.api import Route

route = Route(__name__)


class AccessRead(BaseModel):
    walker_id: str
    walker_name: str | None
    booking_id: str
    read_at: datetime


class AccessLogPage(BaseModel):
    items: list[AccessRead]
    next_cursor: str | None


@route.handle
def list_home_access_log(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> AccessLogPage:
    rows, next_cursor = visits.access_log(route.principal.user_id, limit, cursor)
    return AccessLogPage(items=[AccessRead.model_validate(row) for row in rows], next_cursor=next_cursor)


lambda_handler = route.lambda_handler
