"""POST /v1/bookings/{booking_id}/accept: the walker's answer to a request."""

from dogwalk import bookings
from dogwalk.api import Endpoint
from dogwalk.schemas import BookingOut, booking_out

endpoint = Endpoint("accept_booking")


@endpoint.handle
def accept_booking(booking_id: str) -> BookingOut:
    return booking_out(bookings.act_as_walker(booking_id, endpoint.principal.user_id, "accepted"))


lambda_handler = endpoint.lambda_handler
