"""GET /v1/bookings/{booking_id}: a booking, for its owner, its walker or an admin."""

from dogwalk import bookings
from dogwalk.api import Endpoint
from dogwalk.schemas import BookingOut, booking_out

endpoint = Endpoint("get_booking")


@endpoint.handle
def get_booking(booking_id: str) -> BookingOut:
    caller = endpoint.principal
    return booking_out(bookings.get(booking_id, caller.user_id, caller.role))


lambda_handler = endpoint.lambda_handler
