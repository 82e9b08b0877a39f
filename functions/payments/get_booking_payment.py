"""GET /v1/bookings/{booking_id}/payment: where the booking's money stands, for its owner, its
walker or an admin."""

from typing import Literal

from pydantic import BaseModel

from dogwalk.bookings import lifecycle
from dogwalk.edge.api import Route

route = Route(__name__)


class Payment(BaseModel):
    status: Literal["authorized", "captured", "voided", "refunded", "partially_refunded"]
    authorized_cents: int
    captured_cents: int
    refunded_cents: int
    tip_cents: int
    currency: str


@route.handle
def get_booking_payment(booking_id: str) -> Payment:
    caller = route.principal
    return Payment.model_validate(lifecycle.payment_of(booking_id, caller.user_id, caller.role))


lambda_handler = route.lambda_handler
