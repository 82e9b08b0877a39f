"""POST /v1/payments/connect/webhook: the payment gateway's Connect events (about walkers'
connected accounts: `account.updated`). Its own endpoint at the gateway, with its own signing
secret: the raw body must carry a `Stripe-Signature` made with it (5 minutes' tolerance) or the
answer is 400; each event id is applied once."""

from typing import Literal

from typing_extensions import TypedDict

from dogwalk.edge.api import Route
from dogwalk.payments import webhooks

route = Route(__name__)


class Received(TypedDict):
    received: Literal[True]
    outcome: str


@route.handle
def receive_connect_webhook() -> Received:
    request = route.app.current_event
    signature = request.headers.get("Stripe-Signature") or ""
    return Received(received=True, outcome=webhooks.receive_connect(request.decoded_body or "", signature))


lambda_handler = route.lambda_handler
