"""GET /v1/dogs: your dogs, oldest first, a page at a time."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from dogwalk.adapters.pagination import DEFAULT_LIMIT, MAX_LIMIT
from dogwalk.edge.api import Route
from dogwalk.edge.schemas import DogOut, DogPage
from dogwalk.marketplace import dogs

route = Route(__name__)


@route.handle
def list_dogs(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> DogPage:
    rows, next_cursor = dogs.list_page(route.principal.user_id, limit, cursor)
    return DogPage(items=[DogOut.model_validate(row) for row in rows], next_cursor=next_cursor)


lambda_handler = route.lambda_handler
