"""GET /v1/walks/{walk_id}/report.svg: the walk's report card (route to scale, start, end or where
the walk is now, events, distance, duration, pace, dogs, walker, day) as an SVG image, for the
booking's owner, its walker or an admin."""

from aws_lambda_powertools.event_handler import Response

from dogwalk.edge.api import Route
from dogwalk.tracking import walks

route = Route(__name__)


@route.handle(media_type="image/svg+xml")
def get_walk_report(walk_id: str) -> Response[str]:
    caller = route.principal
    svg = walks.report(walk_id, caller.user_id, caller.role)
    return Response(status_code=200, body=svg, content_type="image/svg+xml; charset=utf-8")


lambda_handler = route.lambda_handler
