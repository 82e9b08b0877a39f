"""DELETE /v1/notifications/devices/{device_id}: stop pushing to one of your devices (its SNS
endpoint goes too); another user's device is 404."""

from aws_lambda_powertools.event_handler import Response

from dogwalk.api import Endpoint
from dogwalk.notifications import devices

endpoint = Endpoint("delete_device")


@endpoint.handle
def delete_device(device_id: str) -> Response[None]:
    devices.delete(endpoint.principal.user_id, device_id)
    return Response(status_code=204)


lambda_handler = endpoint.lambda_handler
