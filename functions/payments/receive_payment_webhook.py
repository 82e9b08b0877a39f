"""POST /v1/payments/webhook: the payment gateway's events. The raw body must carry a valid
`Stripe-Signature` (HMAC-SHA256 over `timestamp.body`, 5 minutes' tolerance) or the answer is
400; each event id is applied once, so the gateway's retries and replays are harmless."""

from typing import Literal

from typing_extensions import TypedDict

from dogwalk.bookings import reconciliation
from dogwalk.edge.api import Route
from dogwalk.payments import webhooks

route = Route(__name__)


class Received(TypedDict):
    received: Literal[True]
    outcome: str


@route.handle
def receive_payment_webhook() -> Received:
    request = route.app.current_event
    signature = request.headers.get("Stripe-Signature") or ""
    outcome = webhooks.receive(request.decoded_body or "", signature, reconciliation.APPLIERS)
    return Received(received=True, outcome=outcome)


lambda_handler = route.lambda_handler
