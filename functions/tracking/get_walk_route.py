"""GET /v1/walks/{walk_id}/route: the route as a GeoJSON FeatureCollection (RFC 7946, [lon, lat]):
a LineString of the accepted points in time order, simplified by Douglas-Peucker to `simplify_m`
metres (0: every point), and a Point per walk event; for the booking's owner, walker or an admin."""

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel

from dogwalk.edge.api import Route
from dogwalk.tracking import walks

route = Route(__name__)


class RouteLine(BaseModel):
    type: Literal["LineString"]
    coordinates: list[tuple[float, float]]


class EventPoint(BaseModel):
    type: Literal["Point"]
    coordinates: tuple[float, float]


class RouteProperties(BaseModel):
    walk_id: str
    points: int  # before simplification
    simplified_points: int
    distance_m: float


class EventProperties(BaseModel):
    type: Literal["pee", "poo", "water", "food", "photo", "note"]
    tst: int
    note: str | None
    photo_id: str | None = None  # a photo event's photo (`GET /v1/walks/{walk_id}/photos`)


class RouteFeature(BaseModel):
    type: Literal["Feature"]
    geometry: RouteLine | None  # null until the route has two points
    properties: RouteProperties


class EventFeature(BaseModel):
    type: Literal["Feature"]
    geometry: EventPoint | None  # null for an event with no position on a walk with no route
    properties: EventProperties


class FeatureCollection(BaseModel):
    type: Literal["FeatureCollection"]
    features: list[RouteFeature | EventFeature]


@route.handle
def get_walk_route(
    walk_id: str,
    simplify_m: Annotated[
        float, Query(ge=0, le=1000, allow_inf_nan=False, description="Douglas-Peucker tolerance in metres; 0: none")
    ] = 0.0,
) -> FeatureCollection:
    caller = route.principal
    return FeatureCollection.model_validate(walks.route(walk_id, caller.user_id, caller.role, simplify_m))


lambda_handler = route.lambda_handler
