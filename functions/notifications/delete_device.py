"""DELETE /v1/notifications/devices/{device_id}: stop pushing to one of your devices (its SNS
endpoint goes too); another user's device is 404."""

from aws_lambda_powertools.event_handler import Response

from dogwalk.edge.api import Route
from dogwalk.notifications import push_devices

route = Route(__name__)


@route.handle
def delete_device(device_id: str) -> Response[None]:
    push_devices.delete(route.principal.user_id, device_id)
    return Response(status_code=204)


lambda_handler = route.lambda_handler
