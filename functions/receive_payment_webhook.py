"""POST /v1/payments/webhook: the payment gateway's events. The raw body must carry a valid
`Stripe-Signature` (HMAC-SHA256 over `timestamp.body`, 5 minutes' tolerance) or the answer is
400; each event id is applied once, so the gateway's retries and replays are harmless."""

from typing import Literal

from typing_extensions import TypedDict

from dogwalk import webhooks
from dogwalk.api import Endpoint

endpoint = Endpoint("receive_payment_webhook")


class Received(TypedDict):
    received: Literal[True]
    outcome: str


@endpoint.handle
def receive_payment_webhook() -> Received:
    request = endpoint.app.current_event
    outcome = webhooks.receive(request.decoded_body or "", request.headers.get("Stripe-Signature") or "")
    return Received(received=True, outcome=outcome)


lambda_handler = endpoint.lambda_handler
