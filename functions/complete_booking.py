"""POST /v1/bookings/{booking_id}/complete: the walk ends, the payment is captured and the
ledger posted. Honours Idempotency-Key; a plain retry captures and posts once too."""

from dogwalk import bookings
from dogwalk.api import Endpoint
from dogwalk.schemas import BookingOut, booking_out

endpoint = Endpoint("complete_booking")


@endpoint.handle
def complete_booking(booking_id: str) -> BookingOut:
    return booking_out(bookings.complete_walk(booking_id, endpoint.principal.user_id))


lambda_handler = endpoint.lambda_handler
