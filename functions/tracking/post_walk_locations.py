"""POST /v1/walks/{walk_id}/locations: the phone's HTTP fallback when MQTT is not available. The
same payloads as the MQTT topics (an OwnTracks `location`, a `batch` of them, or a walk event) go
through the same ingest; 202 with what was kept and what was dropped, by reason."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic import BaseModel, ValidationError

from dogwalk.edge.api import Route
from dogwalk.errors import NotFound, ValidationFailed
from dogwalk.tracking import ingest, live

route = Route(__name__)


class Ingested(BaseModel):
    accepted: int
    events: int
    dropped: dict[str, int]


@route.handle
def post_walk_locations(walk_id: str, message: Annotated[dict[str, Any], Body()]) -> Ingested:
    ingest.require_walkers_walk(walk_id, route.principal.user_id)
    try:
        points, events = ingest.parse(message, "location" if "_type" in message else "event")
    except ValidationError as exc:
        errors = [{"loc": ["body", *map(str, err["loc"])], "msg": err["msg"]} for err in exc.errors()]
        raise ValidationFailed("Not an OwnTracks location, batch or walk event.", errors=errors) from None
    outcome = ingest.ingest(walk_id, points, events)
    if outcome is None:  # the walk was there a moment ago
        raise NotFound("No such walk.")
    live.publish(walk_id, ingest.live_messages(outcome))
    return Ingested(accepted=len(outcome.accepted), events=len(outcome.events), dropped=dict(outcome.dropped))


lambda_handler = route.lambda_handler
