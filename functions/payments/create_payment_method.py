"""POST /v1/payments/methods: save a card the app tokenized with the gateway (Idempotency-Key)."""

from pydantic import Field

from dogwalk.edge.api import Route
from dogwalk.edge.schemas import PaymentMethod, Write
from dogwalk.payments import gateway

route = Route(__name__)


class NewPaymentMethod(Write):
    # Stripe's ids and test tokens (`pm_...`, `tok_...`): letters, digits and underscores
    gateway_token: str = Field(min_length=3, max_length=255, pattern=r"^[A-Za-z0-9_]+$", examples=["pm_card_visa"])


@route.handle
def create_payment_method(method: NewPaymentMethod) -> PaymentMethod:
    return PaymentMethod.model_validate(gateway.save_payment_method(route.principal.user_id, method.gateway_token))


lambda_handler = route.lambda_handler
