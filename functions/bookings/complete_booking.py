"""POST /v1/bookings/{booking_id}/complete: the walk ends, the payment is captured and the
ledger posted; whoever watches the walk live is told it is over (best effort). Honours
Idempotency-Key; a plain retry captures and posts once too."""

from dogwalk.bookings import lifecycle
from dogwalk.edge.api import Route
from dogwalk.edge.schemas import BookingOut, booking_out
from dogwalk.tracking import live

route = Route(__name__)


@route.handle
def complete_booking(booking_id: str) -> BookingOut:
    completed = lifecycle.complete_walk(booking_id, route.principal.user_id)
    live.walk_completed(booking_id)
    return booking_out(completed)


lambda_handler = route.lambda_handler
