"""GET /v1/payments/methods: your saved payment methods."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel

from dogwalk import payments
from dogwalk.api import Endpoint
from dogwalk.pagination import DEFAULT_LIMIT, MAX_LIMIT
from dogwalk.schemas import PaymentMethod

endpoint = Endpoint("list_payment_methods")


class PaymentMethodPage(BaseModel):
    items: list[PaymentMethod]
    next_cursor: str | None


@endpoint.handle
def list_payment_methods(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> PaymentMethodPage:
    rows, next_cursor = payments.list_payment_methods(endpoint.principal.user_id, limit, cursor)
    return PaymentMethodPage(items=[PaymentMethod.model_validate(row) for row in rows], next_cursor=next_cursor)


lambda_handler = endpoint.lambda_handler
