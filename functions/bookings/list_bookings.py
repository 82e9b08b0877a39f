"""GET /v1/bookings: the caller's bookings (an owner's requests, a walker's walks) by start time,
`?status&from&to`, paged."""

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import AwareDatetime, BaseModel

from dogwalk.adapters.pagination import DEFAULT_LIMIT, MAX_LIMIT
from dogwalk.bookings import lifecycle
from dogwalk.edge.api import Route
from dogwalk.edge.schemas import BookingOut, booking_out
from dogwalk.errors import ValidationFailed

route = Route(__name__)

Status = Literal["requested", "accepted", "in_progress", "completed", "declined", "expired", "cancelled"]


class BookingPage(BaseModel):
    items: list[BookingOut]
    next_cursor: str | None


@route.handle
def list_bookings(
    status: Annotated[Status | None, Query()] = None,
    start_from: Annotated[
        AwareDatetime | None, Query(alias="from", description="bookings starting at or after")
    ] = None,
    start_to: Annotated[AwareDatetime | None, Query(alias="to", description="bookings starting before")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> BookingPage:
    if start_from and start_to and start_to <= start_from:
        raise ValidationFailed("`to` must be after `from`.", errors=[{"loc": ["query", "to"], "msg": "not after from"}])
    caller = route.principal
    found, next_cursor = lifecycle.list_for(
        caller.user_id, caller.role, status=status, start_from=start_from, start_to=start_to, limit=limit,
        cursor=cursor,
    )  # fmt: skip
    return BookingPage(items=[booking_out(row) for row in found], next_cursor=next_cursor)


lambda_handler = route.lambda_handler
