"""The one declaration of every HTTP endpoint, queue consumer, topic rule and scheduled job.

The CDK app creates one Lambda per entry, the local platform serves and schedules from it,
and the OpenAPI document is generated from it. A handler module in `functions/` is named
after its entry and finds its method and path here, so nothing lists a route twice.
This module imports nothing heavy: the CDK app and the local platform read it without
loading any handler.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PUBLIC: frozenset[str] = frozenset()
ANY_USER: frozenset[str] = frozenset({"owner", "walker", "admin"})
OWNER = frozenset({"owner"})
WALKER = frozenset({"walker"})
ADMIN = frozenset({"admin"})


@dataclass(frozen=True)
class Function:
    """What every Lambda declares: its module in `functions/` and its size."""

    name: str
    memory_mb: int = 256
    timeout_s: int = 10
    # names of the adapters the function uses; the CDK app grants exactly these
    uses: frozenset[str] = field(default_factory=frozenset)

    @property
    def handler(self) -> str:
        return f"{self.name}.lambda_handler"


@dataclass(frozen=True)
class Endpoint(Function):
    """An HTTP endpoint behind API Gateway (REST API, proxy integration)."""

    method: str = "GET"
    path: str = "/"
    roles: frozenset[str] = PUBLIC
    summary: str = ""
    tag: str = ""
    status_code: int = 200
    # honours `Idempotency-Key`: a retry answers as the first request did (see dogwalk.idempotency)
    idempotent: bool = False

    @property
    def public(self) -> bool:
        return not self.roles


@dataclass(frozen=True)
class Schedule(Function):
    """A job run on a schedule (an EventBridge rule in the cloud), e.g. `rate(5 minutes)`."""

    every_s: int = 300

    @property
    def expression(self) -> str:
        minutes, seconds = divmod(self.every_s, 60)
        if seconds == 0 and minutes % 1440 == 0:
            days = minutes // 1440
            return f"rate({days} day{'s' if days > 1 else ''})"
        if seconds == 0 and minutes % 60 == 0:
            hours = minutes // 60
            return f"rate({hours} hour{'s' if hours > 1 else ''})"
        if seconds == 0:
            return f"rate({minutes} minute{'s' if minutes > 1 else ''})"
        raise ValueError(f"{self.name}: EventBridge schedules have minute resolution")


@dataclass(frozen=True)
class QueueConsumer(Function):
    """A function fed by an SQS queue (event source mapping, partial batch failures)."""

    queue: str = ""
    batch_size: int = 10
    max_receive_count: int = 5
    # the domain events this queue takes from the events topic (an SNS subscription filtering on
    # `event_type`, raw message delivery); ("*",) all of them; () none: the queue is fed otherwise
    events: tuple[str, ...] = ()


@dataclass(frozen=True)
class WebSocketRoute(Function):
    """A route of the WebSocket API (`$connect`, `$disconnect` or an action's name)."""

    route_key: str = "$default"


@dataclass(frozen=True)
class TopicRule(Function):
    """An MQTT topic filter whose messages reach a queue (an IoT topic rule in the cloud)."""

    topic_filter: str = ""
    queue: str = ""

    @property
    def sql(self) -> str:
        """The rule's statement: each message's JSON payload with the topic it arrived on."""
        return f"SELECT *, topic() AS topic FROM '{self.topic_filter}'"  # noqa: S608  # nosec B608


# Adapters a function may use; the CDK app turns each into a grant or a VPC attachment.
DATABASE = "database"
CACHE = "cache"
SIGNING_KEYS_READ = "signing_keys_read"
SIGNING_KEYS_WRITE = "signing_keys_write"
# the payment gateway: its API key and webhook secret (one Secrets Manager secret, read only)
PAYMENTS = "payments"
# pushing to live-view WebSocket connections (execute-api:ManageConnections on the WebSocket API)
WEBSOCKET_PUSH = "websocket_push"
# publishing domain events to the events topic (sns:Publish on it): the relay, and the endpoints
# that publish what they recorded right after their commit
EVENTS = "events"
# sending notifications: SES email, SNS SMS and mobile push (platform endpoints), and the devices' endpoints
NOTIFY = "notify"

# Hashing a password (Argon2id, 19 MiB) is CPU-bound: Lambda's CPU grows with memory.
_HASHING_MB = 1024
_AUTH = frozenset({DATABASE, CACHE, SIGNING_KEYS_READ})
_DATA = frozenset({DATABASE, CACHE})
_NOTIFY = frozenset({DATABASE, NOTIFY})

ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        name="get_health",
        method="GET",
        path="/v1/health",
        summary="Health of the database and the cache (Route 53 health checks)",
        tag="Health",
        uses=frozenset({DATABASE, CACHE}),
    ),
    Endpoint(
        name="get_jwks",
        method="GET",
        path="/.well-known/jwks.json",
        summary="Public keys that verify access tokens (current and previous)",
        tag="Health",
        uses=frozenset({SIGNING_KEYS_READ}),
    ),
    Endpoint(
        name="register",
        method="POST",
        path="/v1/auth/register",
        status_code=201,
        summary="Create an owner or walker account; answers a token pair",
        tag="Auth",
        memory_mb=_HASHING_MB,
        uses=_AUTH,
    ),
    Endpoint(
        name="login",
        method="POST",
        path="/v1/auth/login",
        summary="Email, password and (when on) a TOTP code for a token pair",
        tag="Auth",
        memory_mb=_HASHING_MB,
        uses=_AUTH,
    ),
    Endpoint(
        name="refresh_tokens",
        method="POST",
        path="/v1/auth/refresh",
        summary="Spend a refresh token for a new pair (reuse revokes the family)",
        tag="Auth",
        uses=_AUTH,
    ),
    Endpoint(
        name="logout",
        method="POST",
        path="/v1/auth/logout",
        status_code=204,
        roles=ANY_USER,
        summary="Revoke the refresh token's family",
        tag="Auth",
        uses=frozenset({DATABASE, CACHE}),
    ),
    Endpoint(
        name="get_me",
        method="GET",
        path="/v1/auth/me",
        roles=ANY_USER,
        summary="The calling user",
        tag="Auth",
        uses=frozenset({DATABASE, CACHE}),
    ),
    Endpoint(
        name="change_password",
        method="POST",
        path="/v1/auth/password",
        status_code=204,
        roles=ANY_USER,
        summary="Change the password; every refresh family of the user is revoked",
        tag="Auth",
        memory_mb=_HASHING_MB,
        uses=frozenset({DATABASE, CACHE}),
    ),
    Endpoint(
        name="setup_totp",
        method="POST",
        path="/v1/auth/mfa/totp/setup",
        roles=ANY_USER,
        summary="A new TOTP secret and its otpauth URI (pending until enabled)",
        tag="Auth",
        uses=frozenset({DATABASE, CACHE}),
    ),
    Endpoint(
        name="enable_totp",
        method="POST",
        path="/v1/auth/mfa/totp/enable",
        status_code=204,
        roles=ANY_USER,
        summary="Turn TOTP on with a valid code",
        tag="Auth",
        uses=frozenset({DATABASE, CACHE}),
    ),
    Endpoint(
        name="disable_totp",
        method="POST",
        path="/v1/auth/mfa/totp/disable",
        status_code=204,
        roles=ANY_USER,
        summary="Turn TOTP off with a valid code",
        tag="Auth",
        uses=frozenset({DATABASE, CACHE}),
    ),
    Endpoint(
        name="create_dog",
        method="POST",
        path="/v1/dogs",
        status_code=201,
        roles=OWNER,
        summary="Add a dog",
        tag="Dogs",
        uses=_DATA,
    ),
    Endpoint(name="list_dogs", method="GET", path="/v1/dogs", roles=OWNER, summary="Your dogs", tag="Dogs", uses=_DATA),
    Endpoint(
        name="get_dog",
        method="GET",
        path="/v1/dogs/{dog_id}",
        roles=OWNER,
        summary="One of your dogs",
        tag="Dogs",
        uses=_DATA,
    ),
    Endpoint(
        name="update_dog",
        method="PATCH",
        path="/v1/dogs/{dog_id}",
        roles=OWNER,
        summary="Change a dog",
        tag="Dogs",
        uses=_DATA,
    ),
    Endpoint(
        name="delete_dog",
        method="DELETE",
        path="/v1/dogs/{dog_id}",
        status_code=204,
        roles=OWNER,
        summary="Remove a dog (not while it has an accepted walk coming)",
        tag="Dogs",
        uses=_DATA,
    ),
    Endpoint(
        name="put_walker_profile",
        method="PUT",
        path="/v1/walkers/me/profile",
        roles=WALKER,
        summary="Your walker profile: price, service area, sizes, timezone",
        tag="Walkers",
        uses=_DATA,
    ),
    Endpoint(
        name="put_availability",
        method="PUT",
        path="/v1/walkers/me/availability",
        roles=WALKER,
        summary="Your weekly windows, in your local time",
        tag="Walkers",
        uses=_DATA,
    ),
    Endpoint(
        name="add_time_off",
        method="POST",
        path="/v1/walkers/me/time-off",
        status_code=201,
        roles=WALKER,
        summary="A time off range",
        tag="Walkers",
        uses=_DATA,
    ),
    Endpoint(
        name="submit_verification",
        method="POST",
        path="/v1/walkers/me/verification",
        status_code=202,
        roles=WALKER,
        summary="Documents for verification; an admin decides",
        tag="Walkers",
        uses=_DATA,
    ),
    Endpoint(
        name="search_walkers",
        method="GET",
        path="/v1/walkers/search",
        roles=OWNER,
        summary="Walkers who can take these dogs at this place and time, with a quote",
        tag="Walkers",
        memory_mb=512,
        uses=_DATA,
    ),
    Endpoint(
        name="get_walker",
        method="GET",
        path="/v1/walkers/{walker_id}",
        roles=ANY_USER,
        summary="A verified walker's public profile",
        tag="Walkers",
        uses=_DATA,
    ),
    Endpoint(
        name="list_verifications",
        method="GET",
        path="/v1/admin/verifications",
        roles=ADMIN,
        summary="Walkers by verification state (pending first in line)",
        tag="Admin",
        uses=_DATA,
    ),
    Endpoint(
        name="decide_verification",
        method="POST",
        path="/v1/admin/verifications/{walker_id}",
        roles=ADMIN,
        summary="Approve or reject a pending walker; recorded and notified",
        tag="Admin",
        uses=_DATA | {EVENTS},
    ),
    Endpoint(
        name="quote_booking",
        method="POST",
        path="/v1/bookings/quote",
        roles=OWNER,
        summary="The price of a walk, after every booking rule",
        tag="Bookings",
        uses=_DATA,
    ),
    Endpoint(
        name="create_booking",
        method="POST",
        path="/v1/bookings",
        status_code=201,
        roles=OWNER,
        summary="Request a walk (or a weekly series); the price is held on the card",
        tag="Bookings",
        idempotent=True,
        timeout_s=30,
        uses=frozenset({DATABASE, CACHE, PAYMENTS, EVENTS}),
    ),
    Endpoint(
        name="get_booking",
        method="GET",
        path="/v1/bookings/{booking_id}",
        roles=ANY_USER,
        summary="A booking, for its owner, its walker or an admin",
        tag="Bookings",
        uses=_DATA,
    ),
    Endpoint(
        name="list_bookings",
        method="GET",
        path="/v1/bookings",
        roles=OWNER | WALKER,
        summary="Your bookings (as owner or as walker) by start time",
        tag="Bookings",
        uses=_DATA,
    ),
    Endpoint(
        name="get_booking_payment",
        method="GET",
        path="/v1/bookings/{booking_id}/payment",
        roles=ANY_USER,
        summary="Where a booking's money stands: held, captured, refunded, tipped",
        tag="Payments",
        uses=_DATA,
    ),
    Endpoint(
        name="accept_booking",
        method="POST",
        path="/v1/bookings/{booking_id}/accept",
        roles=WALKER,
        summary="Accept a request (409 booking_conflict if it overlaps an accepted walk)",
        tag="Bookings",
        uses=_DATA | {EVENTS},
    ),
    Endpoint(
        name="decline_booking",
        method="POST",
        path="/v1/bookings/{booking_id}/decline",
        roles=WALKER,
        summary="Decline a request; the hold on the owner's card is released",
        tag="Bookings",
        uses=frozenset({DATABASE, CACHE, PAYMENTS, EVENTS}),
    ),
    Endpoint(
        name="cancel_booking",
        method="POST",
        path="/v1/bookings/{booking_id}/cancel",
        roles=frozenset({"owner", "walker"}),
        summary="Cancel; refund by the policy (owner: full ≥ 24 h, half 2-24 h, none < 2 h; walker: full)",
        tag="Bookings",
        idempotent=True,
        timeout_s=30,
        uses=frozenset({DATABASE, CACHE, PAYMENTS, EVENTS}),
    ),
    Endpoint(
        name="start_booking",
        method="POST",
        path="/v1/bookings/{booking_id}/start",
        roles=WALKER,
        summary="Start the walk (from 15 minutes before); its id and MQTT topic",
        tag="Bookings",
        uses=_DATA | {EVENTS},
    ),
    Endpoint(
        name="complete_booking",
        method="POST",
        path="/v1/bookings/{booking_id}/complete",
        roles=WALKER,
        summary="End the walk: the payment is captured and the ledger posted",
        tag="Bookings",
        idempotent=True,
        timeout_s=30,
        uses=frozenset({DATABASE, CACHE, PAYMENTS, WEBSOCKET_PUSH, EVENTS}),
    ),
    Endpoint(
        name="review_booking",
        method="POST",
        path="/v1/bookings/{booking_id}/review",
        status_code=201,
        roles=OWNER,
        summary="Review a completed walk, once",
        tag="Bookings",
        uses=_DATA | {EVENTS},
    ),
    Endpoint(
        name="tip_booking",
        method="POST",
        path="/v1/bookings/{booking_id}/tip",
        status_code=201,
        roles=OWNER,
        summary="Tip the walker of a completed walk, once; charged at once, all to the walker",
        tag="Bookings",
        idempotent=True,
        timeout_s=30,
        uses=frozenset({DATABASE, CACHE, PAYMENTS, EVENTS}),
    ),
    Endpoint(
        name="get_walk",
        method="GET",
        path="/v1/walks/{walk_id}",
        roles=ANY_USER,
        summary="A walk and its summary, for the booking's owner, walker or an admin",
        tag="Tracking",
        uses=_DATA,
    ),
    Endpoint(
        name="get_walk_route",
        method="GET",
        path="/v1/walks/{walk_id}/route",
        roles=ANY_USER,
        summary="The route as GeoJSON (LineString + event Points), simplified to `simplify_m`",
        tag="Tracking",
        uses=_DATA,
    ),
    Endpoint(
        name="get_walk_report",
        method="GET",
        path="/v1/walks/{walk_id}/report.svg",
        roles=ANY_USER,
        summary="The walk's report card as SVG",
        tag="Tracking",
        uses=_DATA,
    ),
    Endpoint(
        name="post_walk_locations",
        method="POST",
        path="/v1/walks/{walk_id}/locations",
        status_code=202,
        roles=WALKER,
        summary="HTTP fallback for the phone: OwnTracks location, batch or event messages",
        tag="Tracking",
        uses=frozenset({DATABASE, CACHE, WEBSOCKET_PUSH}),
    ),
    Endpoint(
        name="create_payment_method",
        method="POST",
        path="/v1/payments/methods",
        status_code=201,
        roles=OWNER,
        summary="Save a card the app tokenized with the gateway",
        tag="Payments",
        idempotent=True,
        uses=frozenset({DATABASE, CACHE, PAYMENTS}),
    ),
    Endpoint(
        name="list_payment_methods",
        method="GET",
        path="/v1/payments/methods",
        roles=OWNER,
        summary="Your saved payment methods",
        tag="Payments",
        uses=_DATA,
    ),
    Endpoint(
        name="receive_payment_webhook",
        method="POST",
        path="/v1/payments/webhook",
        summary="The payment gateway's signed events; each applied once",
        tag="Payments",
        uses=frozenset({DATABASE, PAYMENTS, EVENTS}),
    ),
    Endpoint(
        name="get_earnings",
        method="GET",
        path="/v1/walkers/me/earnings",
        roles=WALKER,
        summary="Your earnings: pending, available, paid out, and the payouts",
        tag="Walkers",
        uses=_DATA,
    ),
    Endpoint(
        name="register_device",
        method="POST",
        path="/v1/notifications/devices",
        status_code=201,
        roles=ANY_USER,
        summary="Register this device for push (FCM or APNs); a token moves to its latest user",
        tag="Notifications",
        uses=frozenset({DATABASE, CACHE, NOTIFY}),
    ),
    Endpoint(
        name="delete_device",
        method="DELETE",
        path="/v1/notifications/devices/{device_id}",
        status_code=204,
        roles=ANY_USER,
        summary="Stop pushing to one of your devices",
        tag="Notifications",
        uses=frozenset({DATABASE, CACHE, NOTIFY}),
    ),
    Endpoint(
        name="get_notification_preferences",
        method="GET",
        path="/v1/notifications/preferences",
        roles=ANY_USER,
        summary="Your channels per event type and your quiet hours",
        tag="Notifications",
        uses=_DATA,
    ),
    Endpoint(
        name="put_notification_preferences",
        method="PUT",
        path="/v1/notifications/preferences",
        roles=ANY_USER,
        summary="Choose channels per event type and quiet hours (push and SMS wait for their end)",
        tag="Notifications",
        uses=_DATA,
    ),
    Endpoint(
        name="list_notifications",
        method="GET",
        path="/v1/notifications",
        roles=ANY_USER,
        summary="Your in-app inbox, newest first",
        tag="Notifications",
        uses=_DATA,
    ),
    Endpoint(
        name="read_notification",
        method="POST",
        path="/v1/notifications/{notification_id}/read",
        status_code=204,
        roles=ANY_USER,
        summary="Mark a notification read",
        tag="Notifications",
        uses=_DATA,
    ),
    Endpoint(
        name="get_trial_balance",
        method="GET",
        path="/v1/admin/ledger/trial-balance",
        roles=ADMIN,
        summary="Balances per ledger account; they sum to zero",
        tag="Admin",
        uses=_DATA,
    ),
    Endpoint(
        name="suspend_user",
        method="POST",
        path="/v1/admin/users/{user_id}/suspend",
        status_code=204,
        roles=ADMIN,
        summary="Suspend a user: no login, no refresh, live tokens refused",
        tag="Admin",
        uses=frozenset({DATABASE, CACHE}),
    ),
)

# The REST API's token authorizer; not an endpoint of its own.
AUTHORIZER = Function(name="authorize", memory_mb=512, uses=frozenset({SIGNING_KEYS_READ, CACHE}))

# Applies the SQL migrations; the CDK app runs it on every deploy before new code takes traffic.
MIGRATOR = Function(
    name="run_migrations", timeout_s=300, uses=frozenset({DATABASE, SIGNING_KEYS_READ, SIGNING_KEYS_WRITE})
)

SCHEDULES: tuple[Schedule, ...] = (
    # requests not accepted by their start expire; holds of walks that ended uncharged are released
    Schedule(name="expire_bookings", every_s=300, timeout_s=120, uses=frozenset({DATABASE, PAYMENTS})),
    # each walker's available balance (earned more than 48 h ago), once a week
    Schedule(name="pay_out_walkers", every_s=7 * 24 * 3600, timeout_s=300, uses=frozenset({DATABASE})),
    # the outbox relay's guarantee: whatever was not published right after its commit goes out now
    Schedule(name="relay_outbox", every_s=60, timeout_s=60, uses=frozenset({DATABASE, EVENTS})),
    # push and SMS held back by quiet hours go out when the hours end
    Schedule(name="send_delayed_notifications", every_s=60, timeout_s=60, uses=_NOTIFY),
    # walk points: next months' partitions made, those past the retention period dropped
    Schedule(name="maintain_walk_points", every_s=24 * 3600, timeout_s=120, uses=frozenset({DATABASE})),
    # a new signing key every 30 days; the previous one keeps verifying until its tokens expire
    Schedule(
        name="rotate_signing_keys",
        every_s=30 * 24 * 3600,
        uses=frozenset({SIGNING_KEYS_READ, SIGNING_KEYS_WRITE}),
    ),
)
# Walker phones publish GPS and walk events over MQTT; an IoT rule queues them for the ingest.
WALK_MESSAGES_QUEUE = "walk-messages"
# Domain events fan out from the events topic to one queue per channel; SMS only for the events
# that warrant a text message.
SMS_EVENTS = ("booking.accepted", "booking.cancelled", "walk.started")
QUEUE_CONSUMERS: tuple[QueueConsumer, ...] = (
    QueueConsumer(name="notify_inbox", queue="notifications-inbox", events=("*",), uses=frozenset({DATABASE})),
    QueueConsumer(name="notify_push", queue="notifications-push", events=("*",), uses=_NOTIFY),
    QueueConsumer(name="notify_email", queue="notifications-email", events=("*",), uses=_NOTIFY),
    QueueConsumer(name="notify_sms", queue="notifications-sms", events=SMS_EVENTS, uses=_NOTIFY),
    QueueConsumer(
        name="ingest_walk_messages",
        queue=WALK_MESSAGES_QUEUE,
        batch_size=100,
        timeout_s=60,
        memory_mb=512,
        uses=frozenset({DATABASE, CACHE, WEBSOCKET_PUSH}),
    ),
)
TOPIC_RULES: tuple[TopicRule, ...] = (
    TopicRule(name="walk_messages", topic_filter="dogwalk/walks/+/+", queue=WALK_MESSAGES_QUEUE),
)

# The IoT Core custom authorizer: a phone connects with its access token as the MQTT password and
# may publish only to the walks of its own in-progress bookings.
DEVICE_AUTHORIZER = Function(name="authorize_device", uses=frozenset({SIGNING_KEYS_READ, DATABASE, CACHE}))

# The live view's WebSocket API (API Gateway WebSocket API in the cloud; locally ws://127.0.0.1:3001/v1/ws).
WEBSOCKET_ROUTES: tuple[WebSocketRoute, ...] = (
    # the suspension check falls back to the database when Redis cannot answer
    WebSocketRoute(name="ws_connect", route_key="$connect", uses=frozenset({SIGNING_KEYS_READ, CACHE, DATABASE})),
    WebSocketRoute(name="ws_disconnect", route_key="$disconnect", uses=frozenset({CACHE})),
    WebSocketRoute(name="ws_subscribe", route_key="subscribe", uses=frozenset({DATABASE, CACHE, WEBSOCKET_PUSH})),
)


def endpoint(name: str) -> Endpoint:
    for candidate in ENDPOINTS:
        if candidate.name == name:
            return candidate
    raise KeyError(f"no endpoint named {name!r} in the registry")


def functions() -> tuple[Function, ...]:
    """Every Lambda function the platform deploys."""
    return (*ENDPOINTS, AUTHORIZER, DEVICE_AUTHORIZER, MIGRATOR, *SCHEDULES, *QUEUE_CONSUMERS, *WEBSOCKET_ROUTES)
