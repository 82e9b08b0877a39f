"""AWS IoT Core's custom authorizer: a walker's phone connects over MQTT with its access token as the
password (or, over WebSockets or HTTPS, as an `Authorization: Bearer` header); the answer is an IoT
policy that lets it connect as its walker and publish only to the walks of its in-progress bookings
(see dogwalk.tracking.device_policy). A stock OwnTracks app connects with its tracker credentials
(MQTT username and password) and may publish only under `owntracks/<username>/`. Anything else is
`{"isAuthenticated": false}`. The token and the password are never logged.
"""

import base64
import binascii
import time
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict

from dogwalk.adapters import snapstart
from dogwalk.adapters.observability import instrument, logger, metrics
from dogwalk.errors import Forbidden, RateLimited, Unauthorized
from dogwalk.tracking import device_policy
from dogwalk.tracking.registry import DEVICE_AUTHORIZER


class _Part(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Mqtt(_Part):
    username: str | None = None
    password: str | None = None  # base64, as IoT Core sends it
    clientId: str | None = None  # noqa: N815 - IoT Core's field names


class Http(_Part):
    headers: dict[str, str] = {}


class ProtocolData(_Part):
    mqtt: Mqtt | None = None
    http: Http | None = None


class DeviceAuthorizerEvent(_Part):
    """The parts of the event we read (https://docs.aws.amazon.com/iot/latest/developerguide/custom-auth-lambda.html)."""

    protocols: list[str] = []
    protocolData: ProtocolData = ProtocolData()  # noqa: N815

    def token(self) -> str:
        mqtt, http = self.protocolData.mqtt, self.protocolData.http
        if mqtt is not None and mqtt.password:
            try:
                return base64.b64decode(mqtt.password, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                raise Unauthorized("The MQTT password is not base64 of a token.") from None
        headers = {name.lower(): value for name, value in (http.headers if http else {}).items()}
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and token:
            return token
        raise Unauthorized("No access token: neither an MQTT password nor a bearer header.")


def authorize_device(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = DeviceAuthorizerEvent.model_validate(event)
    mqtt = request.protocolData.mqtt
    client_id = mqtt.clientId if mqtt else None
    try:
        grant = device_policy.authorize_mqtt(mqtt.username if mqtt else None, request.token(), time.time())
    except (Unauthorized, Forbidden, RateLimited) as exc:
        logger.info("device refused", extra={"reason": exc.detail, "client_id": client_id})
        metrics.add_metric(name="DevicesRefused", unit="Count", value=1)
        return {"isAuthenticated": False}
    logger.info("device authorized", extra={"user_id": grant.user_id, "client_id": client_id,
                                            "walks": sorted(grant.walk_ids), "tracker": grant.tracker})  # fmt: skip
    account = device_policy.Account.of_function(context.invoked_function_arn)
    return device_policy.authorizer_answer(grant, client_id, account, time.time())


lambda_handler = instrument(authorize_device, correlation_id_path="connectionMetadata.id")
# it starts from a snapshot (infra/functions.py); `principals.active` imports the suspension check late
snapstart.prime("dogwalk.auth.suspensions", uses=DEVICE_AUTHORIZER.uses)
