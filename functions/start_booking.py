"""POST /v1/bookings/{booking_id}/start: the walker starts the walk (from 15 minutes before its
time); the answer carries the walk's id and the MQTT topic the phone publishes to."""

from typing import Literal

from pydantic import BaseModel

from dogwalk import bookings
from dogwalk.api import Endpoint

endpoint = Endpoint("start_booking")


class Walk(BaseModel):
    id: str
    mqtt_topic: str


class Started(BaseModel):
    id: str
    status: Literal["in_progress"]
    walk: Walk


@endpoint.handle
def start_booking(booking_id: str) -> Started:
    walk = bookings.start_walk(booking_id, endpoint.principal.user_id)
    return Started(id=booking_id, status="in_progress", walk=Walk.model_validate(walk))


lambda_handler = endpoint.lambda_handler
