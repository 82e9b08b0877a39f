"""GET /v1/walkers/search: walkers who can take these dogs at this place and time, each with the
distance and a quote from the pricing shared with bookings."""

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import AwareDatetime, BaseModel

from dogwalk.adapters.pagination import DEFAULT_LIMIT, MAX_LIMIT
from dogwalk.edge.api import Route
from dogwalk.edge.schemas import PublicWalker, QuoteOut, public_walker, quote_out
from dogwalk.marketplace import search

route = Route(__name__)


class Match(BaseModel):
    walker: PublicWalker
    distance_km: float
    quote: QuoteOut


class SearchPage(BaseModel):
    items: list[Match]
    next_cursor: str | None


@route.handle
def search_walkers(
    lat: Annotated[float, Query(ge=-90, le=90)],
    lon: Annotated[float, Query(ge=-180, le=180)],
    start: Annotated[AwareDatetime, Query(description="RFC 3339 with offset")],
    duration_min: Annotated[int, Query(ge=30, le=120, description="30, 45, 60, 90 or 120")],
    dog_ids: Annotated[str, Query(min_length=1, max_length=400, description="comma-separated dog ids")],
    sort: Annotated[Literal["distance", "price", "rating"], Query()] = "distance",
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> SearchPage:
    matches, next_cursor = search.find_walkers(
        route.principal.user_id, lat=lat, lon=lon, start=start, duration_min=duration_min, dog_ids=dog_ids,
        sort=sort, limit=limit, cursor=cursor,
    )  # fmt: skip
    items = [
        Match(walker=public_walker(found.walker), distance_km=found.distance_km, quote=quote_out(found.quote))
        for found in matches
    ]
    return SearchPage(items=items, next_cursor=next_cursor)


lambda_handler = route.lambda_handler
