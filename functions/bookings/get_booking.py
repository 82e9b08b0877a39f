"""GET /v1/bookings/{booking_id}: a booking, for its owner, its walker or an admin."""

from dogwalk.bookings import lifecycle
from dogwalk.edge.api import Route
from dogwalk.edge.schemas import BookingOut, booking_out

route = Route(__name__)


@route.handle
def get_booking(booking_id: str) -> BookingOut:
    caller = route.principal
    return booking_out(lifecycle.get(booking_id, caller.user_id, caller.role))


lambda_handler = route.lambda_handler
