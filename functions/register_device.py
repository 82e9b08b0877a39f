"""POST /v1/notifications/devices: register this device's FCM or APNs token for push; a token
already registered moves to the caller (the latest user who registered it)."""

from typing import Annotated, Literal

from pydantic import BaseModel, StringConstraints

from dogwalk.api import Endpoint
from dogwalk.notifications import devices
from dogwalk.schemas import Write

endpoint = Endpoint("register_device")

Platform = Literal["fcm", "apns"]


class DeviceIn(Write):
    platform: Platform
    # FCM registration tokens and APNs device tokens are printable ASCII without spaces
    token: Annotated[str, StringConstraints(min_length=1, max_length=4096, pattern=r"^[\x21-\x7e]+$")]


class Device(BaseModel):
    id: str
    platform: Platform


@endpoint.handle
def register_device(device: DeviceIn) -> Device:
    return Device.model_validate(devices.register(endpoint.principal.user_id, device.platform, device.token))


lambda_handler = endpoint.lambda_handler
