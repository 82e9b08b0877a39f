"""POST /v1/payments/methods: save a card the app tokenized with the gateway (Idempotency-Key)."""

from pydantic import Field

from dogwalk import payments
from dogwalk.api import Endpoint
from dogwalk.schemas import PaymentMethod, Write

endpoint = Endpoint("create_payment_method")


class NewPaymentMethod(Write):
    gateway_token: str = Field(min_length=3, max_length=255, examples=["pm_card_visa"])


@endpoint.handle
def create_payment_method(method: NewPaymentMethod) -> PaymentMethod:
    return PaymentMethod.model_validate(payments.save_payment_method(endpoint.principal.user_id, method.gateway_token))


lambda_handler = endpoint.lambda_handler
