"""POST /v1/walkers/me/time-off: a range when you do not walk."""

from datetime import datetime

from pydantic import BaseModel

from dogwalk import walkers
from dogwalk.api import Endpoint
from dogwalk.schemas import Instant, Write

endpoint = Endpoint("add_time_off")


class TimeOffIn(Write):
    start: Instant
    end: Instant


class TimeOff(BaseModel):
    id: str
    start: datetime
    end: datetime


@endpoint.handle
def add_time_off(period: TimeOffIn) -> TimeOff:
    return TimeOff.model_validate(walkers.add_time_off(endpoint.principal.user_id, period.start, period.end))


lambda_handler = endpoint.lambda_handler
