"""What the platform's functions are declared with: the kinds of Lambda (an endpoint, a schedule,
a queue consumer, a WebSocket route, a topic rule), the adapters a function may use, the roles,
and `Service`, which gives every declaration of one service its defaults (handler folder, OpenAPI
tag, adapters).

Each service declares its functions in `dogwalk/<service>/registry.py`; `dogwalk.registry` is
their aggregate. Nothing here imports anything heavy: the CDK app and the local platform read the
declarations without loading a handler.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

PUBLIC: frozenset[str] = frozenset()
ANY_USER: frozenset[str] = frozenset({"owner", "walker", "admin"})
OWNER = frozenset({"owner"})
WALKER = frozenset({"walker"})
ADMIN = frozenset({"admin"})


@dataclass(frozen=True)
class Function:
    """What every Lambda declares: its module `functions/<service>/<name>.py` and its size."""

    name: str
    memory_mb: int = 256
    timeout_s: int = 10
    # names of the adapters the function uses; the CDK app grants exactly these
    uses: frozenset[str] = field(default_factory=frozenset)
    # the folder of `functions/` (and the package of the layer) the function belongs to
    service: str = ""
    # starts from a SnapStart snapshot of its published version (dogwalk/adapters/snapstart.py)
    snap_start: bool = False

    @property
    def module(self) -> str:
        """The handler's module as Python imports it (`functions/` is on the path, like /var/task)."""
        return f"{self.service}.{self.name}" if self.service else self.name

    @property
    def handler(self) -> str:
        """Lambda's handler setting: the runtime reads `auth/get_me.lambda_handler` as module `auth.get_me`."""
        return f"{self.module.replace('.', '/')}.lambda_handler"


@dataclass(frozen=True)
class Endpoint(Function):
    """An HTTP endpoint behind API Gateway (REST API, proxy integration)."""

    method: str = "GET"
    path: str = "/"
    roles: frozenset[str] = PUBLIC
    summary: str = ""
    tag: str = ""
    status_code: int = 200
    # honours `Idempotency-Key`: a retry answers as the first request did (see dogwalk.edge.idempotency)
    idempotent: bool = False
    snap_start: bool = True  # every endpoint: the `live` alias serves published versions

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
# verifying Apple's and Google's ID tokens: their client ids in the environment, their JWKS over the
# internet (the egress subnets, behind NAT)
IDENTITY_PROVIDERS = "identity_providers"
# walk photos in their S3 bucket (and its KMS key): signing the walker's upload (s3:PutObject under
# `walks/`), reading the checked copies and thumbnails (s3:GetObject under `photos/`, `thumbnails/`),
# and the check itself (reads and deletes the upload, writes the copies)
PHOTOS_UPLOAD = "photos_upload"
PHOTOS_READ = "photos_read"
PHOTOS_CHECK = "photos_check"
# sealing and opening the owners' home access (envelope encryption): kms:GenerateDataKey and kms:Decrypt
# on the home-access key, for the functions that write or read a home only
HOME_ACCESS = "home_access"


Declared = TypeVar("Declared", bound=Function)


@dataclass(frozen=True)
class Service:
    """One service's defaults for its declarations: its folder in `functions/`, the OpenAPI tag of
    its endpoints and the adapters its functions use unless an entry says otherwise."""

    name: str
    tag: str
    uses: frozenset[str]

    def declare(self, kind: type[Declared], name: str, **fields: Any) -> Declared:
        defaults: dict[str, Any] = {"uses": self.uses}
        if issubclass(kind, Endpoint):
            defaults["tag"] = self.tag
        return kind(name=name, service=self.name, **{**defaults, **fields})

    def endpoint(self, name: str, **fields: Any) -> Endpoint:
        return self.declare(Endpoint, name, **fields)

    def function(self, name: str, **fields: Any) -> Function:
        return self.declare(Function, name, **fields)

    def schedule(self, name: str, **fields: Any) -> Schedule:
        return self.declare(Schedule, name, **fields)

    def queue_consumer(self, name: str, **fields: Any) -> QueueConsumer:
        return self.declare(QueueConsumer, name, **fields)

    def websocket_route(self, name: str, **fields: Any) -> WebSocketRoute:
        return self.declare(WebSocketRoute, name, **fields)

    def topic_rule(self, name: str, **fields: Any) -> TopicRule:
        return self.declare(TopicRule, name, **fields)
