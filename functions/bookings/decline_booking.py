"""POST /v1/bookings/{booking_id}/decline: the walker's answer to a request."""

from dogwalk.bookings import lifecycle
from dogwalk.edge.api import Route
from dogwalk.edge.schemas import BookingOut, booking_out

route = Route(__name__)


@route.handle
def decline_booking(booking_id: str) -> BookingOut:
    return booking_out(lifecycle.act_as_walker(booking_id, route.principal.user_id, "declined"))


lambda_handler = route.lambda_handler
