"""The channels a notification goes out on, behind one interface: `send(delivery) -> Outcome`.

A channel answers `sent` or `skipped` (with the reason: no phone number, no device); a provider's
failure raises, and the delivery is tried again. The providers are AWS APIs (SES v2, SNS SMS, SNS
mobile push), which `make run` and the tests get from moto: the local channel is the same code
against the emulated API. The inbox is our own table.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from psycopg.types.json import Jsonb

from dogwalk.adapters import db
from dogwalk.adapters.observability import logger
from dogwalk.config import settings
from dogwalk.notifications import local_mailbox, push_devices
from dogwalk.notifications.texts import Text

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
# SNS's answer when the provider told it the device's token is invalid or unregistered, or when the
# endpoint is gone: the device is forgotten
GONE = frozenset({"EndpointDisabled", "NotFound"})
APNS_ALERT = {
    "AWS.SNS.MOBILE.APNS.PUSH_TYPE": {"DataType": "String", "StringValue": "alert"},
    "AWS.SNS.MOBILE.APNS.PRIORITY": {"DataType": "String", "StringValue": "10"},
}


@dataclass(frozen=True)
class Recipient:
    id: str
    role: str
    name: str
    email: str
    phone: str | None


@dataclass(frozen=True)
class Delivery:
    event_id: str
    event_type: str
    occurred_at: datetime
    recipient: Recipient
    text: Text


@dataclass(frozen=True)
class Outcome:
    status: Literal["sent", "skipped"]
    detail: str


class Channel(Protocol):
    name: str

    def send(self, delivery: Delivery) -> Outcome: ...


class Inbox:
    """The in-app inbox (GET /v1/notifications): one row per event and user, whatever the retries."""

    name = "inbox"

    def send(self, delivery: Delivery) -> Outcome:
        with db.transaction() as conn:
            written = conn.execute(
                "INSERT INTO notifications (id, user_id, event_id, event_type, title, body, data, created_at)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (event_id, user_id) DO NOTHING RETURNING id",
                (str(uuid.uuid4()), delivery.recipient.id, delivery.event_id, delivery.event_type,
                 delivery.text.title, delivery.text.body, Jsonb(delivery.text.data), delivery.occurred_at),
            ).fetchone()  # fmt: skip
        return Outcome("sent", "in the inbox" if written else "in the inbox already")


class Email:
    """Amazon SES (v2 SendEmail): a plain-text and an HTML body; locally also kept in the local mailbox."""

    name = "email"

    def send(self, delivery: Delivery) -> Outcome:
        from dogwalk.adapters import aws

        text = delivery.text
        utf8 = "UTF-8"
        answer = aws.client("sesv2").send_email(
            FromEmailAddress=settings().notifications_from_email,
            Destination={"ToAddresses": [delivery.recipient.email]},
            Content={
                "Simple": {
                    "Subject": {"Data": text.title, "Charset": utf8},
                    "Body": {
                        "Text": {"Data": text.email_text, "Charset": utf8},
                        "Html": {"Data": text.email_html, "Charset": utf8},
                    },
                }
            },
        )
        # locally, what went out is also kept for GET /_local/emails (a no-op with any other stage)
        local_mailbox.keep(delivery.recipient.email, text.title, text.email_text, text.email_html)
        return Outcome("sent", f"SES message {answer['MessageId']}")


class Sms:
    """A text message through SNS to the user's phone number, which must be E.164."""

    name = "sms"

    def send(self, delivery: Delivery) -> Outcome:
        phone = delivery.recipient.phone
        if not phone:
            return Outcome("skipped", "no phone number")
        if not is_e164(phone):
            return Outcome("skipped", "phone number not in E.164 form")
        from dogwalk.adapters import aws

        answer = aws.client("sns").publish(
            PhoneNumber=phone,
            Message=sms_text(delivery.text),
            MessageAttributes={"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}},
        )
        return Outcome("sent", f"SNS message {answer['MessageId']}")


class Push:
    """SNS mobile push to each of the user's devices (see the package's docstring for why SNS)."""

    name = "push"

    def send(self, delivery: Delivery) -> Outcome:
        from botocore.exceptions import ClientError

        from dogwalk.adapters import aws

        targets = push_devices.of_user(delivery.recipient.id)
        if not targets:
            return Outcome("skipped", "no registered device")
        message = json.dumps(push_message(delivery.text))
        sns = aws.client("sns")
        pushed, forgotten, failures = 0, 0, []
        for device in targets:
            try:
                sns.publish(
                    TargetArn=device.endpoint_arn,
                    Message=message,
                    MessageStructure="json",
                    MessageAttributes=APNS_ALERT if device.platform == "apns" else {},
                )
                pushed += 1
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                if code not in GONE:
                    failures.append(exc)
                    continue
                push_devices.forget(device)
                forgotten += 1
                logger.info("device forgotten: its token is no longer valid",
                            extra={"device_id": device.id, "user_id": delivery.recipient.id, "code": code})  # fmt: skip
        if pushed:  # some devices have it: a retry would push them twice
            return Outcome("sent", f"{pushed} device(s)" + (f", {len(failures)} failed" if failures else ""))
        if failures:
            raise failures[0]
        return Outcome("skipped", f"no valid device ({forgotten} forgotten)")


CHANNELS: dict[str, Channel] = {channel.name: channel for channel in (Inbox(), Email(), Sms(), Push())}


def is_e164(phone: str) -> bool:
    return E164.fullmatch(phone) is not None


def sms_text(text: Text) -> str:
    return f"DogWalk: {text.body}"


def push_message(text: Text) -> dict[str, str]:
    """The `Message` of an SNS publish with `MessageStructure=json` to a platform endpoint: SNS picks
    the key of the endpoint's platform. `GCM` carries an FCM HTTP v1 message (`fcmV1Message`; data
    values must be strings), `APNS` and `APNS_SANDBOX` the APNs payload (`aps.alert` and our keys)."""
    fcm: dict[str, Any] = {
        "fcmV1Message": {
            "message": {
                "notification": {"title": text.title, "body": text.body},
                "data": dict(text.data),
                "android": {"priority": "high", "notification": {"tag": text.data.get("event_type", "dogwalk")}},
            }
        }
    }
    apns: dict[str, Any] = {
        "aps": {
            "alert": {"title": text.title, "body": text.body},
            "sound": "default",
            "thread-id": text.data.get("booking_id", text.data.get("event_type", "dogwalk")),
        },
        **text.data,
    }
    return {
        "default": text.body,
        "GCM": json.dumps(fcm),
        "APNS": json.dumps(apns),
        "APNS_SANDBOX": json.dumps(apns),
    }
