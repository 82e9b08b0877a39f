"""POST /v1/bookings/{booking_id}/review: the owner reviews a completed walk, once."""

from datetime import datetime

from pydantic import BaseModel, Field, StrictInt

from dogwalk import bookings
from dogwalk.api import Endpoint
from dogwalk.schemas import Write

endpoint = Endpoint("review_booking")


class ReviewIn(Write):
    rating: StrictInt = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=2000)


class Review(BaseModel):
    booking_id: str
    rating: int
    comment: str | None
    created_at: datetime


@endpoint.handle
def review_booking(booking_id: str, review: ReviewIn) -> Review:
    written = bookings.review(booking_id, endpoint.principal.user_id, review.rating, review.comment)
    return Review.model_validate(written)


lambda_handler = endpoint.lambda_handler
