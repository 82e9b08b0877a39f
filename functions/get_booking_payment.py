"""GET /v1/bookings/{booking_id}/payment: where the booking's money stands, for its owner, its
walker or an admin."""

from typing import Literal

from pydantic import BaseModel

from dogwalk import bookings
from dogwalk.api import Endpoint

endpoint = Endpoint("get_booking_payment")


class Payment(BaseModel):
    status: Literal["authorized", "captured", "voided", "refunded", "partially_refunded"]
    authorized_cents: int
    captured_cents: int
    refunded_cents: int
    tip_cents: int
    currency: str


@endpoint.handle
def get_booking_payment(booking_id: str) -> Payment:
    caller = endpoint.principal
    return Payment.model_validate(bookings.payment_of(booking_id, caller.user_id, caller.role))


lambda_handler = endpoint.lambda_handler
