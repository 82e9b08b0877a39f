"""GET /v1/walkers/search: walkers who can take these dogs at this place and time, each with the
distance and a quote from the pricing shared with bookings."""

from datetime import UTC, datetime
from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import AwareDatetime, BaseModel

from dogwalk.adapters.pagination import DEFAULT_LIMIT, MAX_LIMIT
from dogwalk.bookings import pricing
from dogwalk.edge.api import Route
from dogwalk.edge.schemas import PublicWalker, QuoteOut, public_walker, quote_out
from dogwalk.errors import NotFound, ValidationFailed
from dogwalk.marketplace import dogs, walkers

route = Route("search_walkers")


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
    if duration_min not in pricing.DURATIONS_MIN:
        raise ValidationFailed(
            "Walks last 30, 45, 60, 90 or 120 minutes.",
            errors=[{"loc": ["query", "duration_min"], "msg": "not offered"}],
        )
    ids = [dog_id.strip() for dog_id in dog_ids.split(",") if dog_id.strip()]
    if not 1 <= len(ids) <= 6:
        raise ValidationFailed("Between 1 and 6 dogs.", errors=[{"loc": ["query", "dog_ids"], "msg": "1 to 6 ids"}])
    if len(set(ids)) != len(ids):  # a dog named twice would count (and be priced) twice
        raise ValidationFailed("Name each dog once.", errors=[{"loc": ["query", "dog_ids"], "msg": "repeated id"}])
    try:
        sizes = dogs.sizes_of(route.principal.user_id, ids)
    except NotFound:
        raise ValidationFailed(
            "Search with your own dogs.", errors=[{"loc": ["query", "dog_ids"], "msg": "no such dog"}]
        ) from None
    rows, next_cursor = walkers.search(
        lat=lat, lon=lon, start=start, duration_min=duration_min, sizes=sizes, sort=sort, limit=limit, cursor=cursor
    )
    now = datetime.now(UTC)
    items = [
        Match(
            walker=public_walker(row),
            distance_km=round(row["distance_m"] / 1000, 3),
            quote=quote_out(
                pricing.quote(
                    price_cents_per_30min=row["price_cents_per_30min"],
                    duration_min=duration_min,
                    dog_count=len(ids),
                    start=start,
                    booked_at=now,
                    timezone=row["timezone"],
                )
            ),
        )
        for row in rows
    ]
    return SearchPage(items=items, next_cursor=next_cursor)


lambda_handler = route.lambda_handler
