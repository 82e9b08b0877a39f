"""PUT /v1/walkers/me/availability: your weekly windows in your profile's local time (a window
of 08:00-12:00 stays 08:00-12:00 local on both sides of a DST change)."""

from typing import Annotated

from pydantic import BaseModel, Field, StrictInt, StringConstraints

from dogwalk.edge.api import Route
from dogwalk.edge.schemas import Write
from dogwalk.marketplace import walkers

route = Route(__name__)

ClockTime = Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$")]


class WindowIn(Write):
    weekday: StrictInt = Field(ge=0, le=6, description="Monday = 0")
    start: ClockTime
    end: ClockTime


class AvailabilityIn(Write):
    weekly: list[WindowIn] = Field(max_length=100)


class Availability(BaseModel):
    weekly: list[WindowIn]


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@route.handle
def put_availability(availability: AvailabilityIn) -> Availability:
    windows = [walkers.Window(w.weekday, _minutes(w.start), _minutes(w.end)) for w in availability.weekly]
    saved = walkers.set_availability(route.principal.user_id, windows)
    return Availability(
        weekly=[WindowIn(weekday=w.weekday, start=_clock(w.start_min), end=_clock(w.end_min)) for w in saved]
    )


lambda_handler = route.lambda_handler
