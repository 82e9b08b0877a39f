"""POST /v1/notifications/devices: register this device's FCM or APNs token for push; a token
already registered moves to the caller (the latest user who registered it)."""

from typing import Annotated, Literal

from pydantic import BaseModel, StringConstraints

from dogwalk.edge.api import Route
from dogwalk.edge.schemas import Write
from dogwalk.notifications import push_devices

route = Route(__name__)

Platform = Literal["fcm", "apns"]


class DeviceIn(Write):
    platform: Platform
    # FCM registration tokens and APNs device tokens are printable ASCII without spaces
    token: Annotated[str, StringConstraints(min_length=1, max_length=4096, pattern=r"^[\x21-\x7e]+$")]


class Device(BaseModel):
    id: str
    platform: Platform


@route.handle
def register_device(device: DeviceIn) -> Device:
    return Device.model_validate(push_devices.register(route.principal.user_id, device.platform, device.token))


lambda_handler = route.lambda_handler
