"""POST /v1/bookings/quote: the price of a walk, checked against every booking rule."""

from dogwalk.bookings import lifecycle
from dogwalk.edge.api import Route
from dogwalk.edge.schemas import QuoteOut, WalkIn, quote_out

route = Route(__name__)


@route.handle
def quote_booking(walk: WalkIn) -> QuoteOut:
    return quote_out(lifecycle.quote_walk(walk.walk_for(route.principal.user_id))[0])


lambda_handler = route.lambda_handler
