"""GET /v1/admin/disputes: the disputes (chargebacks) of our charges, newest first, all or those of
one status; kept current by the gateway's `charge.dispute.*` events (`dogwalk.payments.disputes`)."""

from datetime import datetime
from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel

from dogwalk.adapters.pagination import DEFAULT_LIMIT, MAX_LIMIT
from dogwalk.edge.api import Route
from dogwalk.payments import disputes

route = Route(__name__)

Status = Literal[
    "warning_needs_response", "warning_under_review", "needs_response", "under_review",
    "warning_closed", "won", "lost", "prevented",
]  # fmt: skip


class Dispute(BaseModel):
    id: str
    booking_id: str
    gateway_id: str
    of_tip: bool
    amount_cents: int
    currency: str
    reason: str
    status: Status
    opened_at: datetime
    closed_at: datetime | None


class DisputePage(BaseModel):
    items: list[Dispute]
    next_cursor: str | None


@route.handle
def list_disputes(
    status: Annotated[Status | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> DisputePage:
    rows, next_cursor = disputes.list_disputes(status, limit, cursor)
    return DisputePage(items=[Dispute.model_validate(row) for row in rows], next_cursor=next_cursor)


lambda_handler = route.lambda_handler
