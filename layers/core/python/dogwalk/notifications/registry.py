"""The notifications service's functions: push devices, preferences and the inbox, one consumer
per channel's queue, and the sweep that sends what quiet hours held back."""

from __future__ import annotations

from dogwalk.declarations import (
    ANY_USER,
    CACHE,
    DATABASE,
    NOTIFY,
    Endpoint,
    QueueConsumer,
    Schedule,
    Service,
)

SERVICE = Service("notifications", tag="Notifications", uses=frozenset({DATABASE, CACHE}))
_SENDING = frozenset({DATABASE, NOTIFY})
# Domain events fan out from the events topic to one queue per channel; SMS only for the events
# that warrant a text message.
SMS_EVENTS = ("booking.accepted", "booking.cancelled", "walk.started")

ENDPOINTS: tuple[Endpoint, ...] = (
    SERVICE.endpoint(
        "register_device",
        method="POST",
        path="/v1/notifications/devices",
        status_code=201,
        roles=ANY_USER,
        summary="Register this device for push (FCM or APNs); a token moves to its latest user",
        uses=frozenset({DATABASE, CACHE, NOTIFY}),
    ),
    SERVICE.endpoint(
        "delete_device",
        method="DELETE",
        path="/v1/notifications/devices/{device_id}",
        status_code=204,
        roles=ANY_USER,
        summary="Stop pushing to one of your devices",
        uses=frozenset({DATABASE, CACHE, NOTIFY}),
    ),
    SERVICE.endpoint(
        "get_notification_preferences",
        path="/v1/notifications/preferences",
        roles=ANY_USER,
        summary="Your channels per event type and your quiet hours",
    ),
    SERVICE.endpoint(
        "put_notification_preferences",
        method="PUT",
        path="/v1/notifications/preferences",
        roles=ANY_USER,
        summary="Choose channels per event type and quiet hours (push and SMS wait for their end)",
    ),
    SERVICE.endpoint(
        "list_notifications", path="/v1/notifications", roles=ANY_USER, summary="Your in-app inbox, newest first"
    ),
    SERVICE.endpoint(
        "read_notification",
        method="POST",
        path="/v1/notifications/{notification_id}/read",
        status_code=204,
        roles=ANY_USER,
        summary="Mark a notification read",
    ),
)

SCHEDULES: tuple[Schedule, ...] = (
    # push and SMS held back by quiet hours go out when the hours end
    SERVICE.schedule("send_delayed_notifications", every_s=60, timeout_s=60, uses=_SENDING),
)

QUEUE_CONSUMERS: tuple[QueueConsumer, ...] = (
    SERVICE.queue_consumer("notify_inbox", queue="notifications-inbox", events=("*",), uses=frozenset({DATABASE})),
    SERVICE.queue_consumer("notify_push", queue="notifications-push", events=("*",), uses=_SENDING),
    SERVICE.queue_consumer("notify_email", queue="notifications-email", events=("*",), uses=_SENDING),
    SERVICE.queue_consumer("notify_sms", queue="notifications-sms", events=SMS_EVENTS, uses=_SENDING),
)
