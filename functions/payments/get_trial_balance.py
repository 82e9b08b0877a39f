"""GET /v1/admin/ledger/trial-balance: every ledger account's balance; they sum to zero."""

from typing import Literal

from typing_extensions import TypedDict  # pydantic documents it on Python 3.11

from dogwalk.adapters import db
from dogwalk.edge.api import Route
from dogwalk.payments import ledger

route = Route(__name__)


class AccountBalance(TypedDict):
    account: str
    kind: Literal["asset", "liability", "revenue", "expense"]
    currency: str
    balance_cents: int


class TrialBalance(TypedDict):
    accounts: list[AccountBalance]
    total_cents: int


@route.handle
def get_trial_balance() -> TrialBalance:
    with db.transaction() as conn:
        rows = ledger.trial_balance(conn)
    accounts = [AccountBalance(**row) for row in rows]  # type: ignore[typeddict-item]
    return TrialBalance(accounts=accounts, total_cents=sum(account["balance_cents"] for account in accounts))


lambda_handler = route.lambda_handler
