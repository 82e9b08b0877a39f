"""POST /v1/bookings/{booking_id}/start: the walker starts the walk (from 15 minutes before its
time); the answer carries the walk's id and the MQTT topic the phone publishes to."""

from typing import Literal

from pydantic import BaseModel

from dogwalk.bookings import lifecycle
from dogwalk.edge.api import Route

route = Route(__name__)


class Walk(BaseModel):
    id: str
    mqtt_topic: str


class Started(BaseModel):
    id: str
    status: Literal["in_progress"]
    walk: Walk


@route.handle
def start_booking(booking_id: str) -> Started:
    walk = lifecycle.start_walk(booking_id, route.principal.user_id)
    return Started(id=booking_id, status="in_progress", walk=Walk.model_validate(walk))


lambda_handler = route.lambda_handler
