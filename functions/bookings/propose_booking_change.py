"""POST /v1/bookings/{booking_id}/changes: the owner asks for a new start, duration or dogs. A
requested booking is changed at once (200, the booking re-quoted and its hold adjusted); an
accepted one gets a proposal its walker answers (201 change). Honours Idempotency-Key."""

from typing import Annotated, Literal, Self

from aws_lambda_powertools.event_handler import Response
from pydantic import Field, StringConstraints, model_validator

from dogwalk.bookings import changes
from dogwalk.edge.api import Route
from dogwalk.edge.schemas import BookingOut, ChangeOut, Instant, Write, booking_out

route = Route(__name__)


class ChangeIn(Write):
    start: Instant | None = None
    duration_min: Literal[30, 45, 60, 90, 120] | None = None
    dog_ids: list[Annotated[str, StringConstraints(min_length=36, max_length=36)]] | None = Field(
        default=None, min_length=1, max_length=6
    )

    @model_validator(mode="after")
    def _something(self) -> Self:
        if self.start is None and self.duration_min is None and self.dog_ids is None:
            raise ValueError("give at least one of start, duration_min, dog_ids")
        return self


@route.handle(responses={200: BookingOut})
def propose_booking_change(booking_id: str, change: ChangeIn) -> Response[ChangeOut | BookingOut]:
    wanted = changes.Wanted(start=change.start, duration_min=change.duration_min, dog_ids=change.dog_ids)
    kind, made = changes.propose(booking_id, route.principal.user_id, wanted)
    if kind == "booking":
        return Response(status_code=200, body=booking_out(made), content_type="application/json")
    return Response(status_code=201, body=ChangeOut.model_validate(made), content_type="application/json")


lambda_handler = route.lambda_handler
