"""GET /v1/bookings/{booking_id}/care: the home and the dogs' care, for the booking's owner, or its
walker from 24 h before the start until the end of an accepted or in-progress walk (404 otherwise)."""

from pydantic import BaseModel

from dogwalk.care import visits
from dogwalk.edge.api import Route
from dogwalk.edge.schemas import Home, Size, Vaccination

route = Route(__name__)


class DogCare(BaseModel):
    id: str
    name: str
    size: Size
    medical_notes: str | None
    feeding: str | None
    vaccinations: list[Vaccination]


class BookingCare(BaseModel):
    home: Home | None
    dogs: list[DogCare]


@route.handle
def get_booking_care(booking_id: str) -> BookingCare:
    caller = route.principal
    return BookingCare.model_validate(visits.care_of(booking_id, caller.user_id, caller.role))


lambda_handler = route.lambda_handler
