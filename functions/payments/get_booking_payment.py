"""GET /v1/bookings/{booking_id}/payment: where the booking's money stands, for its owner, its
walker or an admin."""

from dogwalk.bookings import lifecycle
from dogwalk.edge.api import Route
from dogwalk.edge.schemas import BookingPayment

route = Route(__name__)


@route.handle
def get_booking_payment(booking_id: str) -> BookingPayment:
    caller = route.principal
    return BookingPayment.model_validate(lifecycle.payment_of(booking_id, caller.user_id, caller.role))


lambda_handler = route.lambda_handler
