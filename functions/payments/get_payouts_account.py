"""GET /v1/walkers/me/payouts/account: where the walker's payouts account stands (none, pending,
enabled, restricted) and what the gateway still needs, from our copy, which the gateway's
`account.updated` events keep current. No input: TypedDicts, no pydantic."""

from typing import Literal

from typing_extensions import TypedDict  # pydantic documents it on Python 3.11

from dogwalk.edge.api import Route
from dogwalk.payments import connect

route = Route(__name__)


class PayoutsAccount(TypedDict):
    status: Literal["none", "pending", "enabled", "restricted"]
    payouts_enabled: bool
    requirements_due: list[str]  # the gateway's names of what is due, e.g. "individual.dob.day"


@route.handle
def get_payouts_account() -> PayoutsAccount:
    found = connect.account_view(route.principal.user_id)
    return PayoutsAccount(
        status=found["status"], payouts_enabled=found["payouts_enabled"], requirements_due=found["requirements_due"]
    )


lambda_handler = route.lambda_handler
