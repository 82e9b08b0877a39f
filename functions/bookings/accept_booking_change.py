"""POST /v1/bookings/{booking_id}/changes/{change_id}/accept: the walker takes the owner's change:
the booking's new time, dogs and price, its hold adjusted; 409 booking_conflict on an overlap.
Honours Idempotency-Key."""

from dogwalk.bookings import changes
from dogwalk.edge.api import Route
from dogwalk.edge.schemas import BookingOut, booking_out

route = Route(__name__)


@route.handle
def accept_booking_change(booking_id: str, change_id: str) -> BookingOut:
    return booking_out(changes.accept(booking_id, change_id, route.principal.user_id))


lambda_handler = route.lambda_handler
