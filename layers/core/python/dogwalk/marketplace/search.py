"""An owner's search for walkers: the request's rules (a duration we offer, 1 to 6 of the owner's
own dogs, each named once), the walkers who can take those dogs then and there (`walkers.search`,
one indexed query), and each one's quote from the pricing that bookings charge by."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dogwalk.errors import NotFound, ValidationFailed
from dogwalk.marketplace import dogs, pricing, walkers

MAX_DOGS = 6


@dataclass(frozen=True)
class Match:
    walker: dict[str, Any]  # the walker's row: public profile, `distance_m`, price and timezone
    distance_km: float
    quote: pricing.Quote


def _invalid(msg: str, detail: str) -> ValidationFailed:
    return ValidationFailed(detail, errors=[{"loc": ["query", "dog_ids"], "msg": msg}])


def dog_ids_of(listed: str) -> list[str]:
    """The comma-separated dog ids of the query: 1 to 6 of them, each once (a dog named twice
    would count, and be priced, twice)."""
    ids = [dog_id.strip() for dog_id in listed.split(",") if dog_id.strip()]
    if not 1 <= len(ids) <= MAX_DOGS:
        raise _invalid("1 to 6 ids", "Between 1 and 6 dogs.")
    if len(set(ids)) != len(ids):
        raise _invalid("repeated id", "Name each dog once.")
    return ids


def find_walkers(
    owner_id: str,
    *,
    lat: float,
    lon: float,
    start: datetime,
    duration_min: int,
    dog_ids: str,
    sort: str,
    limit: int,
    cursor: str | None,
    now: datetime | None = None,
) -> tuple[list[Match], str | None]:
    """One page of the walkers who can take the owner's dogs, in `sort` order, each with a quote."""
    if duration_min not in pricing.DURATIONS_MIN:
        raise ValidationFailed(
            "Walks last 30, 45, 60, 90 or 120 minutes.",
            errors=[{"loc": ["query", "duration_min"], "msg": "not offered"}],
        )
    ids = dog_ids_of(dog_ids)
    try:
        sizes = dogs.sizes_of(owner_id, ids)
    except NotFound:
        raise _invalid("no such dog", "Search with your own dogs.") from None
    rows, next_cursor = walkers.search(
        lat=lat, lon=lon, start=start, duration_min=duration_min, sizes=sizes, sort=sort, limit=limit, cursor=cursor
    )
    booked_at = now or datetime.now(UTC)
    matches = [
        Match(
            walker=row,
            distance_km=round(row["distance_m"] / 1000, 3),
            quote=pricing.quote(
                price_cents_per_30min=row["price_cents_per_30min"],
                duration_min=duration_min,
                dog_count=len(ids),
                start=start,
                booked_at=booked_at,
                timezone=row["timezone"],
            ),
        )
        for row in rows
    ]
    return matches, next_cursor
