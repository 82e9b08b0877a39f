"""POST /v1/admin/bookings/{booking_id}/refund: support refunds part or all of what is left of a
booking's captured payment at the gateway, at the platform's expense (the walker keeps their
share); the owner is told. Honours Idempotency-Key, and a retry after a crash refunds once
(`dogwalk.payments.refunds`). Answers the booking's payment view."""

from typing import Annotated

from pydantic import Field, StrictInt, StringConstraints

from dogwalk.bookings import lifecycle
from dogwalk.edge.api import Route
from dogwalk.edge.schemas import BookingPayment, Write
from dogwalk.payments import refunds

route = Route(__name__)


class RefundIn(Write):
    amount_cents: StrictInt = Field(ge=1, le=10_000_000)
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=refunds.MAX_REASON)] = (
        Field(examples=["The walker arrived 40 minutes late"])
    )


@route.handle
def refund_booking(booking_id: str, refund: RefundIn) -> BookingPayment:
    caller = route.principal
    key = route.app.current_event.headers.get("Idempotency-Key")
    refunds.refund(booking_id, caller.user_id, refund.amount_cents, refund.reason, key)
    return BookingPayment.model_validate(lifecycle.payment_of(booking_id, caller.user_id, caller.role))


lambda_handler = route.lambda_handler
