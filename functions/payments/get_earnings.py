"""GET /v1/walkers/me/earnings: what the walker is owed (pending for 48 hours, then available),
has been paid out, and the latest payouts; read from the ledger. No input: TypedDicts, no pydantic."""

from typing_extensions import TypedDict  # pydantic documents it on Python 3.11

from dogwalk.edge.api import Route
from dogwalk.payments import payouts

route = Route(__name__)


class Payout(TypedDict):
    id: str
    period: str  # the ISO week, e.g. 2026-W48
    amount_cents: int
    currency: str
    status: str  # paid | awaiting_onboarding | pending | failed | reversed (recorded: before transfers)
    transfer_id: str | None  # the gateway's transfer, once paid
    reversed_cents: int
    paid_at: str | None  # RFC 3339
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
               status=row["status"], transfer_id=row["transfer_id"], reversed_cents=row["reversed_cents"],
               paid_at=row["paid_at"].isoformat() if row["paid_at"] else None,
               created_at=row["created_at"].isoformat())
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
