"""POST /v1/walkers/me/time-off: a range when you do not walk."""

from datetime import datetime

from pydantic import BaseModel

from dogwalk.edge.api import Route
from dogwalk.edge.schemas import Instant, Write
from dogwalk.marketplace import walkers

route = Route(__name__)


class TimeOffIn(Write):
    start: Instant
    end: Instant


class TimeOff(BaseModel):
    id: str
    start: datetime
    end: datetime


@route.handle
def add_time_off(period: TimeOffIn) -> TimeOff:
    return TimeOff.model_validate(walkers.add_time_off(route.principal.user_id, period.start, period.end))


lambda_handler = route.lambda_handler
