"""POST /v1/bookings/{booking_id}/payment-method: the owner gives another saved card for a booking
whose payment failed (or is still to be held); the price is held on it at once, or 402. Honours
Idempotency-Key."""

from pydantic import Field

from dogwalk.bookings import scheduled_holds
from dogwalk.edge.api import Route
from dogwalk.edge.schemas import BookingOut, Write, booking_out

route = Route(__name__)


class PaymentMethodIn(Write):
    payment_method_id: str = Field(min_length=36, max_length=36)


@route.handle
def change_booking_payment_method(booking_id: str, method: PaymentMethodIn) -> BookingOut:
    changed = scheduled_holds.change_payment_method(booking_id, route.principal.user_id, method.payment_method_id)
    return booking_out(changed)


lambda_handler = route.lambda_handler
