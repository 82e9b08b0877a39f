"""POST /v1/bookings/{booking_id}/decline: the walker's answer to a request."""

from dogwalk import bookings
from dogwalk.api import Endpoint
from dogwalk.schemas import BookingOut, booking_out

endpoint = Endpoint("decline_booking")


@endpoint.handle
def decline_booking(booking_id: str) -> BookingOut:
    return booking_out(bookings.act_as_walker(booking_id, endpoint.principal.user_id, "declined"))


lambda_handler = endpoint.lambda_handler
