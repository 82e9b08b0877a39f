"""GET /v1/walkers/me/earnings: what the walker is owed (pending for 48 hours, then available),
has been paid out, and the latest payouts; read from the ledger."""

from datetime import datetime

from pydantic import BaseModel

from dogwalk import payouts
from dogwalk.api import Endpoint

endpoint = Endpoint("get_earnings")


class Payout(BaseModel):
    id: str
    period: str
    amount_cents: int
    currency: str
    status: str
    created_at: datetime


class Earnings(BaseModel):
    pending_cents: int
    available_cents: int
    paid_out_cents: int
    currency: str
    payouts: list[Payout]


@endpoint.handle
def get_earnings() -> Earnings:
    return Earnings.model_validate(payouts.earnings(endpoint.principal.user_id))


lambda_handler = endpoint.lambda_handler
