"""POST /v1/bookings/{booking_id}/cancel: the owner or the walker cancels; `refund_cents` by the
policy (owner: full 24 h or more ahead, half from 24 h to 2 h, none under 2 h; walker: full).
Honours Idempotency-Key."""

from pydantic import Field

from dogwalk import bookings
from dogwalk.api import Endpoint
from dogwalk.schemas import BookingOut, Write, booking_out

endpoint = Endpoint("cancel_booking")


class Cancellation(Write):
    reason: str | None = Field(default=None, max_length=2000)


@endpoint.handle
def cancel_booking(booking_id: str, cancellation: Cancellation) -> BookingOut:
    return booking_out(bookings.cancel(booking_id, endpoint.principal.user_id, cancellation.reason))


lambda_handler = endpoint.lambda_handler
