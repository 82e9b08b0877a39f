"""GET /v1/walks/{walk_id}: a walk's summary (distance, duration, points, events, drops, where it
is now), for the booking's owner, its walker or an admin."""

from dataclasses import asdict
from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from dogwalk.edge.api import Route
from dogwalk.tracking import walks

route = Route(__name__)


class LastPosition(BaseModel):
    lat: float
    lon: float
    tst: int  # epoch seconds


class EventCounts(BaseModel):
    pee: int
    poo: int
    water: int
    food: int
    photo: int
    note: int


class WalkSummary(BaseModel):
    id: str
    booking_id: str
    status: Literal["in_progress", "completed"]
    started_at: datetime
    ended_at: datetime | None
    distance_m: float
    duration_s: int
    points: int
    events: EventCounts
    dropped: dict[str, int]
    last_position: LastPosition | None
    pace_min_per_km: float | None
    note: str | None  # the walker's, given when completing the walk


@route.handle
def get_walk(walk_id: str) -> WalkSummary:
    caller = route.principal
    return WalkSummary.model_validate(asdict(walks.get(walk_id, caller.user_id, caller.role)))


lambda_handler = route.lambda_handler
