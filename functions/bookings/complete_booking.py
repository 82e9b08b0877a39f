"""POST /v1/bookings/{booking_id}/complete: the walk ends, the payment is captured and the
ledger posted; whoever watches the walk live is told it is over (best effort). Honours
Idempotency-Key; a plain retry captures and posts once too. The walker may leave a note on the
walk (shown on its summary and report card); the body is optional."""

from pydantic import Field

from dogwalk.bookings import lifecycle
from dogwalk.edge.api import Route
from dogwalk.edge.schemas import BookingOut, Write, booking_out
from dogwalk.tracking import live

route = Route(__name__)


class Completion(Write):
    note: str | None = Field(default=None, max_length=1000, description="The walker's words on the walk")


@route.handle
def complete_booking(booking_id: str, completion: Completion | None = None) -> BookingOut:
    note = completion.note if completion else None
    completed = lifecycle.complete_walk(booking_id, route.principal.user_id, note=note)
    live.walk_completed(booking_id)
    return booking_out(completed)


lambda_handler = route.lambda_handler
