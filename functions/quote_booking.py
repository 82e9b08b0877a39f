"""POST /v1/bookings/quote: the price of a walk, checked against every booking rule."""

from dogwalk import bookings
from dogwalk.api import Endpoint
from dogwalk.schemas import QuoteOut, WalkIn, quote_out

endpoint = Endpoint("quote_booking")


@endpoint.handle
def quote_booking(walk: WalkIn) -> QuoteOut:
    return quote_out(bookings.quote_walk(walk.walk_for(endpoint.principal.user_id))[0])


lambda_handler = endpoint.lambda_handler
