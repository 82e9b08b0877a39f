"""Every function of the platform: the aggregate of each service's declarations
(`dogwalk/<service>/registry.py`).

The CDK app creates one Lambda per entry, the local platform serves and schedules from it, and
the OpenAPI document is generated from it. A handler module `functions/<service>/<name>.py` is
named after its entry and finds its method and path here, so nothing lists a route twice. This
module imports nothing heavy: the CDK app and the local platform read it without loading any
handler (each service package's `__init__` is a docstring only).
"""

from __future__ import annotations

from dogwalk.auth import registry as auth
from dogwalk.bookings import registry as bookings
from dogwalk.care import registry as care
from dogwalk.declarations import (
    ADMIN,
    ANY_USER,
    CACHE,
    DATABASE,
    EVENTS,
    HOME_ACCESS,
    IDENTITY_PROVIDERS,
    NOTIFY,
    OWNER,
    PAYMENTS,
    PHOTOS_CHECK,
    PHOTOS_READ,
    PHOTOS_UPLOAD,
    PUBLIC,
    SIGNING_KEYS_READ,
    SIGNING_KEYS_WRITE,
    WALKER,
    WEBSOCKET_PUSH,
    Endpoint,
    Function,
    QueueConsumer,
    Schedule,
    Service,
    TopicRule,
    WebSocketRoute,
)
from dogwalk.marketplace import registry as marketplace
from dogwalk.messages import registry as messages
from dogwalk.notifications import registry as notifications
from dogwalk.operations import registry as operations
from dogwalk.payments import registry as payments
from dogwalk.tracking import registry as tracking

# the README's service list, in its order
SERVICES = (operations, auth, marketplace, bookings, payments, tracking, messages, care, notifications)

ENDPOINTS: tuple[Endpoint, ...] = tuple(entry for service in SERVICES for entry in service.ENDPOINTS)
SCHEDULES: tuple[Schedule, ...] = (
    *operations.SCHEDULES,
    *auth.SCHEDULES,
    *bookings.SCHEDULES,
    *payments.SCHEDULES,
    *tracking.SCHEDULES,
    *notifications.SCHEDULES,
)
QUEUE_CONSUMERS: tuple[QueueConsumer, ...] = (*notifications.QUEUE_CONSUMERS, *tracking.QUEUE_CONSUMERS)
TOPIC_RULES: tuple[TopicRule, ...] = tracking.TOPIC_RULES
WEBSOCKET_ROUTES: tuple[WebSocketRoute, ...] = tracking.WEBSOCKET_ROUTES
AUTHORIZER = auth.AUTHORIZER
DEVICE_AUTHORIZER = tracking.DEVICE_AUTHORIZER
MIGRATOR = operations.MIGRATOR
RESTORE_VALIDATOR = operations.RESTORE_VALIDATOR
WALK_MESSAGES_QUEUE = tracking.WALK_MESSAGES_QUEUE
WALK_PHOTOS_QUEUE = tracking.WALK_PHOTOS_QUEUE
SMS_EVENTS = notifications.SMS_EVENTS

__all__ = [
    "ADMIN",
    "ANY_USER",
    "AUTHORIZER",
    "CACHE",
    "DATABASE",
    "DEVICE_AUTHORIZER",
    "ENDPOINTS",
    "EVENTS",
    "HOME_ACCESS",
    "IDENTITY_PROVIDERS",
    "MIGRATOR",
    "NOTIFY",
    "OWNER",
    "PAYMENTS",
    "PHOTOS_CHECK",
    "PHOTOS_READ",
    "PHOTOS_UPLOAD",
    "PUBLIC",
    "QUEUE_CONSUMERS",
    "RESTORE_VALIDATOR",
    "SCHEDULES",
    "SERVICES",
    "SIGNING_KEYS_READ",
    "SIGNING_KEYS_WRITE",
    "SMS_EVENTS",
    "TOPIC_RULES",
    "WALKER",
    "WALK_MESSAGES_QUEUE",
    "WALK_PHOTOS_QUEUE",
    "WEBSOCKET_PUSH",
    "WEBSOCKET_ROUTES",
    "Endpoint",
    "Function",
    "QueueConsumer",
    "Schedule",
    "Service",
    "TopicRule",
    "WebSocketRoute",
    "endpoint",
    "functions",
]


def endpoint(name: str) -> Endpoint:
    for candidate in ENDPOINTS:
        if candidate.name == name:
            return candidate
    raise KeyError(f"no endpoint named {name!r} in the registry")


def functions() -> tuple[Function, ...]:
    """Every Lambda function the platform deploys."""
    return (
        *ENDPOINTS,
        AUTHORIZER,
        DEVICE_AUTHORIZER,
        MIGRATOR,
        RESTORE_VALIDATOR,
        *SCHEDULES,
        *QUEUE_CONSUMERS,
        *WEBSOCKET_ROUTES,
    )
