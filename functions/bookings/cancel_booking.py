"""POST /v1/bookings/{booking_id}/cancel: the owner or the walker cancels; `refund_cents` by the
policy (owner: full 24 h or more ahead, half from 24 h to 2 h, none under 2 h; walker: full).
Honours Idempotency-Key."""

from pydantic import Field

from dogwalk.bookings import lifecycle
from dogwalk.edge.api import Route
from dogwalk.edge.schemas import BookingOut, Write, booking_out

route = Route(__name__)


class Cancellation(Write):
    reason: str | None = Field(default=None, max_length=2000)


@route.handle
def cancel_booking(booking_id: str, cancellation: Cancellation) -> BookingOut:
    return booking_out(lifecycle.cancel(booking_id, route.principal.user_id, cancellation.reason))


lambda_handler = route.lambda_handler
