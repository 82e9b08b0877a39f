"""POST /v1/bookings/{booking_id}/tip: after a completed walk, its owner tips the walker once;
charged at once, all of it to the walker. Honours Idempotency-Key."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, StrictInt

from dogwalk.edge.api import Route
from dogwalk.edge.schemas import Write
from dogwalk.payments import tips

route = Route(__name__)


class TipIn(Write):
    amount_cents: StrictInt = Field(ge=tips.MIN_CENTS, le=tips.MAX_CENTS)


class Tip(BaseModel):
    booking_id: str
    amount_cents: int
    currency: str
    status: Literal["succeeded"]
    created_at: datetime


@route.handle
def tip_booking(booking_id: str, tip: TipIn) -> Tip:
    return Tip.model_validate(tips.tip(booking_id, route.principal.user_id, tip.amount_cents))


lambda_handler = route.lambda_handler
