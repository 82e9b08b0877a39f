"""POST /v1/bookings/{booking_id}/review: the owner reviews a completed walk, once."""

from datetime import datetime

from pydantic import BaseModel, Field, StrictInt

from dogwalk.bookings import lifecycle
from dogwalk.edge.api import Route
from dogwalk.edge.schemas import Write

route = Route(__name__)


class ReviewIn(Write):
    rating: StrictInt = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=2000)


class Review(BaseModel):
    booking_id: str
    rating: int
    comment: str | None
    created_at: datetime


@route.handle
def review_booking(booking_id: str, review: ReviewIn) -> Review:
    written = lifecycle.review(booking_id, route.principal.user_id, review.rating, review.comment)
    return Review.model_validate(written)


lambda_handler = route.lambda_handler
