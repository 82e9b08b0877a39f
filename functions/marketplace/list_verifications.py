"""GET /v1/admin/verifications: walkers by verification state, the longest waiting first."""

from datetime import datetime
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel

from dogwalk.adapters.pagination import DEFAULT_LIMIT, MAX_LIMIT
from dogwalk.edge.api import Route
from dogwalk.marketplace import walkers

route = Route(__name__)


class VerificationItem(BaseModel):
    walker_id: str
    name: str
    email: str
    status: str
    documents: list[dict[str, Any]] | None
    submitted_at: datetime | None


class VerificationPage(BaseModel):
    items: list[VerificationItem]
    next_cursor: str | None


@route.handle
def list_verifications(
    status: Annotated[Literal["pending", "verified", "rejected", "unverified"], Query()] = "pending",
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> VerificationPage:
    rows, next_cursor = walkers.verification_queue(status, limit, cursor)
    return VerificationPage(items=[VerificationItem.model_validate(row) for row in rows], next_cursor=next_cursor)


lambda_handler = route.lambda_handler
