"""POST /v1/bookings: request a walk (or a weekly series of them); the price is held on the card,
not charged. Honours Idempotency-Key."""

from pydantic import Field

from dogwalk.bookings import lifecycle
from dogwalk.edge.api import Route
from dogwalk.edge.schemas import BookingOut, WalkIn, Write, booking_out

route = Route(__name__)


class Recurrence(Write):
    weekly_count: int = Field(ge=2, le=12)


class BookingIn(WalkIn):
    payment_method_id: str = Field(min_length=36, max_length=36)
    notes: str | None = Field(default=None, max_length=2000)
    recurrence: Recurrence | None = None


@route.handle
def create_booking(booking: BookingIn) -> BookingOut:
    caller = route.principal
    weeks = booking.recurrence.weekly_count if booking.recurrence else 1
    first, *_ = lifecycle.request_walks(
        booking.walk_for(caller.user_id), booking.payment_method_id, booking.notes, weeks
    )
    return booking_out(lifecycle.get(first, caller.user_id, caller.role))


lambda_handler = route.lambda_handler
