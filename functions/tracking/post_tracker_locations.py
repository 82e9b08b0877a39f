"""POST /v1/trackers/locations: the HTTP endpoint of a walker's stock tracker app, authenticated by
the tracker's own credentials (HTTP Basic; Overland's access token setting `<username>:<password>`
arrives as a bearer token), not by the app's tokens: API Gateway's authorizer is not in front of it.

- OwnTracks HTTP mode posts every message it would publish over MQTT, one JSON object a request,
  and retries anything but a 2xx for ever: a `location` becomes a point of the walker's walk in
  progress (the phones' ingest and filters); every other `_type` (transition, lwt, waypoint(s),
  status, card, cmd, steps, encrypted...) is accepted and ignored; the answer is 200 `[]` (no
  friends, cards or commands for it). A body that is not JSON (OwnTracks posts an empty one when a
  friend is deleted) is answered the same and logged, without the body: it would never get better.
  Its `X-Limit-U`/`X-Limit-D` headers (user, device) are not read: the credentials say who it is.
- Overland posts `{"locations": [GeoJSON Point Feature...]}` and deletes its batch only on
  `{"result": "ok"}`: its features are points of the walk (a feature that is not a point fix is
  counted as malformed, the batch still ok).

No walk in progress: accepted, dropped. Only bad or missing credentials answer 401 (with
`WWW-Authenticate: Basic`), too many of them 429.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from aws_lambda_powertools.event_handler import Response
from pydantic import BaseModel, RootModel, ValidationError

from dogwalk.adapters.observability import logger, metrics
from dogwalk.edge.api import Route, problem
from dogwalk.errors import Unauthorized
from dogwalk.tracking import ingest, trackers

route = Route(__name__)
CHALLENGE = 'Basic realm="dogwalk trackers", charset="UTF-8"'


class OverlandAnswer(BaseModel):
    result: Literal["ok"]


class TrackerAnswer(RootModel[list[dict[str, Any]] | OverlandAnswer]):
    """OwnTracks: a JSON array (always empty here); Overland: `{"result": "ok"}`."""


def _json(body: Any, status: int = 200) -> Response[str]:
    return Response(status_code=status, content_type="application/json", body=json.dumps(body))


def _refused(exc: Unauthorized) -> Response[str]:
    answer = problem(401, exc.code, exc.detail, title=exc.title)
    answer.headers["WWW-Authenticate"] = CHALLENGE
    return answer


@route.handle(responses={200: TrackerAnswer})  # the body is written here: OwnTracks and Overland want these exact bytes
def post_tracker_locations() -> Response[str]:
    event = route.app.current_event
    credentials = trackers.basic_credentials(event.headers.get("authorization"))
    if credentials is None:
        return _refused(Unauthorized("Send the tracker's username and password (HTTP Basic).", code="unauthorized"))
    try:
        tracker = trackers.verify(*credentials, source_ip=route.source_ip)
    except Unauthorized as exc:
        return _refused(exc)
    try:
        message = json.loads(event.decoded_body or "null")
    except ValueError:
        logger.warning("tracker body is not JSON; answered as accepted", extra={"walker_id": tracker.walker_id,
                       "bytes": len(event.decoded_body or "")})  # fmt: skip
        metrics.add_metric(name="TrackerMessagesMalformed", unit="Count", value=1)
        return _json([])
    if isinstance(message, dict) and "locations" in message:  # Overland
        points, malformed = trackers.overland_points(message)
        trackers.deliver(tracker, points, malformed)
        return _json({"result": "ok"})
    if not trackers.is_location(message):  # transition, lwt, waypoint, status...: not for the walk
        kind = message.get("_type") if isinstance(message, dict) else None
        logger.info("tracker message ignored", extra={"walker_id": tracker.walker_id, "type": str(kind)[:32]})
        return _json([])
    try:
        points, malformed = ingest.points_of(message), 0
    except ValidationError:
        points, malformed = [], 1
    trackers.deliver(tracker, points, malformed)
    return _json([])


lambda_handler = route.lambda_handler
