"""POST /v1/bookings/{booking_id}/changes/{change_id}/decline: the walker declines the owner's
change; the booking stays as it is. Honours Idempotency-Key."""

from dogwalk.bookings import changes
from dogwalk.edge.api import Route
from dogwalk.edge.schemas import ChangeOut

route = Route(__name__)


@route.handle
def decline_booking_change(booking_id: str, change_id: str) -> ChangeOut:
    return ChangeOut.model_validate(changes.decline(booking_id, change_id, route.principal.user_id))


lambda_handler = route.lambda_handler
