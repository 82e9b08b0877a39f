"""POST /v1/bookings/{booking_id}/complete: the walk ends, the payment is captured and the
ledger posted; whoever watches the walk live is told it is over (best effort). Honours
Idempotency-Key; a plain retry captures and posts once too."""

from dogwalk import bookings, live
from dogwalk.api import Endpoint
from dogwalk.schemas import BookingOut, booking_out

endpoint = Endpoint("complete_booking")


@endpoint.handle
def complete_booking(booking_id: str) -> BookingOut:
    completed = bookings.complete_walk(booking_id, endpoint.principal.user_id)
    live.walk_completed(booking_id)
    return booking_out(completed)


lambda_handler = endpoint.lambda_handler
