"""PUT /v1/walkers/me/profile: your walker profile (price, service area, sizes, timezone)."""

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, StrictInt, field_validator

from dogwalk.edge.api import Route
from dogwalk.edge.schemas import ServiceArea, Size, WalkerProfileOut, Write
from dogwalk.marketplace import walkers

route = Route(__name__)


class ServiceAreaIn(ServiceArea, Write):
    pass


class WalkerProfileIn(Write):
    bio: str = Field(default="", max_length=4000)
    price_cents_per_30min: StrictInt = Field(ge=100, le=100_000)
    service_area: ServiceAreaIn
    max_dogs: StrictInt = Field(ge=1, le=6)
    accepted_sizes: list[Size] = Field(min_length=1, max_length=4)
    timezone: str = Field(min_length=1, max_length=64, examples=["America/New_York"])

    @field_validator("timezone")
    @classmethod
    def iana_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("not an IANA timezone, e.g. America/New_York") from None
        return value


@route.handle
def put_walker_profile(profile: WalkerProfileIn) -> WalkerProfileOut:
    area = profile.service_area
    row = walkers.save_profile(
        route.principal.user_id,
        {**profile.model_dump(exclude={"service_area"}), "lat": area.lat, "lon": area.lon, "radius_km": area.radius_km},
    )
    return WalkerProfileOut(
        **{key: row[key] for key in ("id", "name", "bio", "price_cents_per_30min", "max_dogs", "timezone")},
        accepted_sizes=row["accepted_sizes"],
        verification=row["verification"],
        service_area=ServiceArea(lat=row["lat"], lon=row["lon"], radius_km=row["radius_km"]),
    )


lambda_handler = route.lambda_handler
