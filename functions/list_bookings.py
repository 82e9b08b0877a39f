"""GET /v1/bookings: the caller's bookings (an owner's requests, a walker's walks) by start time,
`?status&from&to`, paged."""

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import AwareDatetime, BaseModel

from dogwalk import bookings
from dogwalk.api import Endpoint
from dogwalk.errors import ValidationFailed
from dogwalk.pagination import DEFAULT_LIMIT, MAX_LIMIT
from dogwalk.schemas import BookingOut, booking_out

endpoint = Endpoint("list_bookings")

Status = Literal["requested", "accepted", "in_progress", "completed", "declined", "expired", "cancelled"]


class BookingPage(BaseModel):
    items: list[BookingOut]
    next_cursor: str | None


@endpoint.handle
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
    caller = endpoint.principal
    found, next_cursor = bookings.list_for(
        caller.user_id, caller.role, status=status, start_from=start_from, start_to=start_to, limit=limit,
        cursor=cursor,
    )  # fmt: skip
    return BookingPage(items=[booking_out(row) for row in found], next_cursor=next_cursor)


lambda_handler = endpoint.lambda_handler
