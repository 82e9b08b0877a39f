"""DELETE /v1/walkers/me/tracker: the tracker app's credentials revoked (HTTP answers 401 at once;
an MQTT connection made with them is refused at its next policy refresh). 204 also when there were none."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from dogwalk.edge.api import Route
from dogwalk.tracking import trackers

route = Route(__name__)


@route.handle
def delete_tracker() -> Response[None]:
    trackers.revoke(route.principal.user_id)
    return Response(status_code=204)


lambda_handler = route.lambda_handler
