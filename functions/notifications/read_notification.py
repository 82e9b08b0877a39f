"""POST /v1/notifications/{notification_id}/read: mark one of your notifications read (again is
fine: the first read time stays)."""

from aws_lambda_powertools.event_handler import Response

from dogwalk.edge.api import Route
from dogwalk.notifications import inbox

route = Route(__name__)


@route.handle
def read_notification(notification_id: str) -> Response[None]:
    inbox.mark_read(route.principal.user_id, notification_id)
    return Response(status_code=204)


lambda_handler = route.lambda_handler
