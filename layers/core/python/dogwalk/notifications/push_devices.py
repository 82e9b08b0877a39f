"""Push devices: an app registers its FCM or APNs token; each token has one SNS platform endpoint
and belongs to the latest user who registered it (a phone that changes hands, a logout and a
login as someone else), so a user never gets another's notifications."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from dogwalk.adapters import db
from dogwalk.adapters.observability import logger
from dogwalk.config import settings
from dogwalk.errors import NotFound, Unavailable, require_id

PLATFORMS = ("fcm", "apns")
# SNS refuses a second endpoint for a token with other attributes, naming the one that exists
_EXISTING_ENDPOINT = re.compile(r"Endpoint (arn:\S+) already exists")


@dataclass(frozen=True)
class Device:
    id: str
    platform: str
    endpoint_arn: str


def application_arn(platform: str) -> str:
    chosen = settings()
    return chosen.push_fcm_application_arn if platform == "fcm" else chosen.push_apns_application_arn


def register(user_id: str, platform: str, token: str) -> dict[str, Any]:
    """The device of this token, now the user's, with a live endpoint; `{id, platform}`."""
    with db.transaction() as conn:
        before = conn.execute(
            "SELECT platform, endpoint_arn FROM devices WHERE token = %s FOR UPDATE", (token,)
        ).fetchone()
        device = conn.execute(
            "INSERT INTO devices (id, user_id, platform, token) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (token) DO UPDATE SET user_id = EXCLUDED.user_id, platform = EXCLUDED.platform,"
            " updated_at = now() RETURNING id::text, platform",
            (str(uuid.uuid4()), user_id, platform, token),
        ).fetchone()
    if device is None:  # INSERT … ON CONFLICT DO UPDATE always returns its row
        raise RuntimeError("the device upsert returned no row")
    known = before["endpoint_arn"] if before and before["platform"] == platform else None
    if before and before["endpoint_arn"] and known is None:  # the token changed platform: a new endpoint
        _delete_endpoint(before["endpoint_arn"])
    arn = _endpoint(platform, token, known)
    if arn != (before["endpoint_arn"] if before else None):
        with db.transaction() as conn:
            conn.execute("UPDATE devices SET endpoint_arn = %s WHERE id = %s", (arn, device["id"]))
    return {"id": device["id"], "platform": device["platform"]}


def delete(user_id: str, device_id: str) -> None:
    """Forget one of the user's devices; another's, or an unknown id, is 404."""
    require_id(device_id, "device")
    with db.transaction() as conn:
        gone = conn.execute(
            "DELETE FROM devices WHERE id = %s AND user_id = %s RETURNING endpoint_arn", (device_id, user_id)
        ).fetchone()
    if gone is None:
        raise NotFound("No such device.")
    if gone["endpoint_arn"]:
        _delete_endpoint(gone["endpoint_arn"])


def of_user(user_id: str) -> list[Device]:
    """The user's devices that have an endpoint to push to."""
    with db.transaction() as conn:
        rows = conn.execute(
            "SELECT id::text, platform, endpoint_arn FROM devices"
            " WHERE user_id = %s AND endpoint_arn IS NOT NULL ORDER BY created_at",
            (user_id,),
        ).fetchall()
    return [Device(row["id"], row["platform"], row["endpoint_arn"]) for row in rows]


def forget(device: Device) -> None:
    """The provider no longer knows the device's token: the device and its endpoint go (unless the
    token was registered again meanwhile, with another endpoint)."""
    with db.transaction() as conn:
        conn.execute("DELETE FROM devices WHERE id = %s AND endpoint_arn = %s", (device.id, device.endpoint_arn))
    _delete_endpoint(device.endpoint_arn)


def _endpoint(platform: str, token: str, known: str | None) -> str | None:
    """The platform endpoint of the token, enabled; None when push is not set up (no application)."""
    application = application_arn(platform)
    if not application:
        return None
    from botocore.exceptions import ClientError

    from dogwalk.adapters import aws

    sns = aws.client("sns")
    try:
        if known:
            try:
                attributes = sns.get_endpoint_attributes(EndpointArn=known)["Attributes"]
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "NotFound":
                    raise
            else:
                _revive(sns, known, token, attributes)
                return known
        try:
            return str(sns.create_platform_endpoint(PlatformApplicationArn=application, Token=token)["EndpointArn"])
        except ClientError as exc:
            matched = _EXISTING_ENDPOINT.search(exc.response.get("Error", {}).get("Message", ""))
            if matched is None:
                raise
            arn = matched.group(1)
            _revive(sns, arn, token, {})
            return arn
    except ClientError as exc:
        raise Unavailable("Push registration is unavailable; try again.") from exc


def _revive(sns: Any, arn: str, token: str, attributes: dict[str, str]) -> None:
    """A registration says the token is good: the endpoint is enabled again (SNS disables it when
    the provider refused the token) and carries this token."""
    if attributes.get("Enabled") != "true" or attributes.get("Token") != token:
        sns.set_endpoint_attributes(EndpointArn=arn, Attributes={"Token": token, "Enabled": "true"})


def _delete_endpoint(arn: str) -> None:
    from botocore.exceptions import ClientError

    from dogwalk.adapters import aws

    try:
        aws.client("sns").delete_endpoint(EndpointArn=arn)
    except ClientError:  # an orphan endpoint costs nothing and is disabled by its provider in time
        logger.warning("could not delete a platform endpoint", extra={"endpoint_arn": arn}, exc_info=True)
