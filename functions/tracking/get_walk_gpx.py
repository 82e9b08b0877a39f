"""GET /v1/walks/{walk_id}/route.gpx: the walk as GPX 1.1 (its track with the points' times, its
events as waypoints), for the booking's owner, its walker or an admin: for Strava, Garmin Connect
or any GPS tool."""

from aws_lambda_powertools.event_handler import Response

from dogwalk.edge.api import Route
from dogwalk.tracking import walks

route = Route(__name__)


@route.handle(media_type="application/gpx+xml")
def get_walk_gpx(walk_id: str) -> Response[str]:
    caller = route.principal
    document = walks.gpx(walk_id, caller.user_id, caller.role)
    headers = {"Content-Disposition": f'attachment; filename="walk-{walk_id}.gpx"'}
    return Response(status_code=200, body=document, content_type="application/gpx+xml; charset=utf-8", headers=headers)


lambda_handler = route.lambda_handler
