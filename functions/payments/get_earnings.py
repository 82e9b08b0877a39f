"""GET /v1/walkers/me/earnings: what the walker is owed (pending for 48 hours, then available),
has been paid out, and the latest payouts; read from the ledger. No input: TypedDicts, no pydantic."""

from typing_extensions import TypedDict  # pydantic documents it on Python 3.11

from dogwalk.edge.api import Route
from dogwalk.payments import payouts

route = Route(__name__)


class Payout(TypedDict):
    id: str
    period: str
    amount_cents: int
    currency: str
    status: str
    created_at: str  # RFC 3339


class Earnings(TypedDict):
    pending_cents: int
    available_cents: int
    paid_out_cents: int
    currency: str
    payouts: list[Payout]


@route.handle
def get_earnings() -> Earnings:
    found = payouts.earnings(route.principal.user_id)
    made = [
        Payout(id=row["id"], period=row["period"], amount_cents=row["amount_cents"], currency=row["currency"],
               status=row["status"], created_at=row["created_at"].isoformat())
        for row in found["payouts"]
    ]  # fmt: skip
    return Earnings(
        pending_cents=found["pending_cents"],
        available_cents=found["available_cents"],
        paid_out_cents=found["paid_out_cents"],
        currency=found["currency"],
        payouts=made,
    )


lambda_handler = route.lambda_handler
