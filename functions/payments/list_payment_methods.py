"""GET /v1/payments/methods: your saved payment methods."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel

from dogwalk.adapters.pagination import DEFAULT_LIMIT, MAX_LIMIT
from dogwalk.edge.api import Route
from dogwalk.edge.schemas import PaymentMethod
from dogwalk.payments import gateway

route = Route(__name__)


class PaymentMethodPage(BaseModel):
    items: list[PaymentMethod]
    next_cursor: str | None


@route.handle
def list_payment_methods(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> PaymentMethodPage:
    rows, next_cursor = gateway.list_payment_methods(route.principal.user_id, limit, cursor)
    return PaymentMethodPage(items=[PaymentMethod.model_validate(row) for row in rows], next_cursor=next_cursor)


lambda_handler = route.lambda_handler
