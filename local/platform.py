"""`make run`: start the dependencies (or use the ones the environment names) and the live view's
WebSocket API, prepare the database and the keys, run the schedules, and serve the HTTP API
until interrupted."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from local.mqtt import Credentials

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Ports:
    http: int = 3000
    mqtt: int = 1883
    postgres: int = 54329
    redis: int = 63799
    moto: int = 4566
    stripe: int = 8420
    ws: int = 3001

    @classmethod
    def from_env(cls) -> Ports:
        names = {
            "http": "HTTP",
            "mqtt": "MQTT",
            "postgres": "PG",
            "redis": "REDIS",
            "moto": "MOTO",
            "stripe": "STRIPE",
            "ws": "WS",
        }
        variables = {field: f"DOGWALK_{name}_PORT" for field, name in names.items()}
        return cls(**{field: int(os.environ[var]) for field, var in variables.items() if var in os.environ})


@dataclass
class Platform:
    """The running local platform: what it started and where each part listens."""

    data_dir: Path = field(default_factory=lambda: Path(os.environ.get("DOGWALK_DATA_DIR", ROOT / ".local")))
    ports: Ports = field(default_factory=Ports.from_env)
    started: list[Any] = field(default_factory=list)
    where: dict[str, str] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _owns_moto: bool = False
    # the credential of the platform's own MQTT clients on its own broker; None on a broker of yours
    _mqtt_internal: Credentials | None = None

    def start_dependencies(self) -> None:
        from local.mqtt import Credentials, MqttBroker
        from local.services import LocalStripe, Postgres, Redis, ensure_port_free

        self.data_dir.mkdir(exist_ok=True)
        if "DATABASE_URL" not in os.environ:
            postgres = Postgres(self.data_dir / "postgres", self.ports.postgres)
            os.environ["DATABASE_URL"] = postgres.start()
            self.started.append(postgres)
            self._watch(postgres)
        self.where["PostgreSQL"] = _redact(os.environ["DATABASE_URL"])
        if "REDIS_URL" not in os.environ:
            redis = Redis(self.data_dir / "redis", self.ports.redis)
            os.environ["REDIS_URL"] = redis.start()
            self.started.append(redis)
            self._watch(redis)
        self.where["Redis"] = _redact(os.environ["REDIS_URL"])
        if "MQTT_URL" not in os.environ:
            # phones are held to what IoT Core's custom authorizer allows; the topic rules use a
            # secret of this process. A broker of your own (MQTT_URL) enforces what you configure.
            self._mqtt_internal = Credentials.internal()
            broker = MqttBroker(self.ports.mqtt, internal=self._mqtt_internal)
            os.environ["MQTT_URL"] = broker.start()
            self.started.append(broker)
        self.where["MQTT"] = _redact(os.environ["MQTT_URL"])
        # the broker POST /v1/walkers/me/tracker names to tracker apps (OwnTracks in MQTT mode)
        broker_address = os.environ["MQTT_URL"].split("://", 1)[-1].rsplit("@", 1)[-1].split("/", 1)[0]
        host, _, port = broker_address.rpartition(":")
        os.environ.setdefault("DOGWALK_TRACKER_MQTT_HOST", host or broker_address)
        os.environ.setdefault("DOGWALK_TRACKER_MQTT_PORT", port if port.isdigit() else "1883")
        os.environ.setdefault("DOGWALK_TRACKER_HTTP_URL", f"http://127.0.0.1:{self.ports.http}/v1/trackers/locations")
        if "AWS_ENDPOINT_URL" not in os.environ:
            from moto.server import ThreadedMotoServer

            ensure_port_free(self.ports.moto, "moto (AWS APIs)", "DOGWALK_MOTO_PORT")
            moto = ThreadedMotoServer(ip_address="127.0.0.1", port=self.ports.moto, verbose=False)
            logging.getLogger("werkzeug").setLevel(logging.WARNING)
            moto.start()
            self.started.append(moto)
            self._owns_moto = True
            os.environ["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{self.ports.moto}"
            # moto accepts any credentials; never real ones
            os.environ["AWS_ACCESS_KEY_ID"] = os.environ["AWS_SECRET_ACCESS_KEY"] = "local"  # noqa: S105  # nosec B105
        os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
        self.where["AWS APIs (moto)"] = os.environ["AWS_ENDPOINT_URL"]
        if "DOGWALK_STRIPE_API_BASE" not in os.environ:
            base = f"http://127.0.0.1:{self.ports.http}"
            webhook = (f"{base}/v1/payments/webhook", LOCAL_WEBHOOK_SECRET)
            connect_webhook = (f"{base}/v1/payments/connect/webhook", LOCAL_CONNECT_WEBHOOK_SECRET)
            stripe = LocalStripe(self.ports.stripe, self.data_dir / "localstripe.pickle", webhook, connect_webhook)
            os.environ["DOGWALK_STRIPE_API_BASE"] = stripe.start()
            self.started.append(stripe)
        self.where["Payments (localstripe)"] = os.environ["DOGWALK_STRIPE_API_BASE"]

    def _watch(self, service: Any) -> None:
        """Restart a service that died (e.g. PostgreSQL killed): health answers 503 meanwhile."""

        def watch() -> None:
            while not self._stop.wait(1.0):
                if not service.running():
                    print(f"{type(service).__name__} stopped; restarting it", file=sys.stderr)
                    try:
                        service.start()
                    except Exception as exc:  # keep watching: the next round tries again
                        print(f"restart of {type(service).__name__} failed: {exc}", file=sys.stderr)

        threading.Thread(target=watch, name=f"watch-{type(service).__name__}", daemon=True).start()

    def start_websocket(self) -> None:
        """The live view's WebSocket API and its management endpoint, which the functions push
        through; before anything reads the settings, which are read once."""
        from local.websocket import WebSocketGateway

        gateway = WebSocketGateway(self.ports.ws)
        self.where["WebSocket (live view)"] = gateway.start()
        self.started.append(gateway)
        os.environ["DOGWALK_WEBSOCKET_MANAGEMENT_URL"] = gateway.management_url
        self.where["WebSocket management API"] = gateway.management_url

    def start_events(self) -> None:
        """The channel queues and the events topic they subscribe to, and the notification senders (SES
        identity, push applications), before anything reads the settings: the functions learn the topic
        from DOGWALK_EVENTS_TOPIC_ARN and the push applications from DOGWALK_PUSH_*_APPLICATION_ARN."""
        from dogwalk.config import settings
        from local.queues import QueueRunner, ensure_events_topic, ensure_photo_bucket
        from local.senders import ensure_notification_senders

        QueueRunner(stop=self._stop).ensure_queues()
        # walk photos: uploads to moto's S3 are notified to the photo check's queue, as in the cloud
        self.where["walk photos (S3)"] = f"{ensure_photo_bucket()}: uploads under walks/ → SQS walk-photos"
        os.environ["DOGWALK_EVENTS_TOPIC_ARN"] = topic = ensure_events_topic()
        self.where["domain events (SNS)"] = f"{topic} → {', '.join(self._event_queues())}"
        # the SES sender and the push applications: set only where nobody named their own
        for name, value in ensure_notification_senders().items():
            os.environ.setdefault(name, value)
        settings.cache_clear()  # read above, before the applications' settings existed
        self.where["notifications"] = 'each one sent is logged: "notification sent" (channel, event_type, title)'

    @staticmethod
    def _event_queues() -> list[str]:
        from dogwalk import registry

        return [consumer.queue for consumer in registry.QUEUE_CONSUMERS if consumer.events]

    def prepare(self) -> None:
        """Migrations and the signing key, by the same function the cloud runs on deploy."""
        from dogwalk import registry
        from local import runtime

        keys_file = self.data_dir / "signing-keys.json"
        if self._owns_moto and keys_file.exists():  # moto keeps nothing across restarts; tokens should
            _put_signing_keys(keys_file.read_text())
        if self._owns_moto:
            _put_local_payments_secret()
        from local.home_access_key import ensure_home_access_key

        # moto's key forgets itself on restart: kept beside the data when moto is ours
        ensure_home_access_key(self.data_dir / "home-access-key.json" if self._owns_moto else None)
        runtime.invoke(registry.MIGRATOR, {"RequestType": "Create"})
        if self._owns_moto:
            keys_file.touch(mode=0o600)
            keys_file.write_text(_get_signing_keys())

    def start_schedules(self) -> None:
        from local.scheduler import Scheduler

        scheduler = Scheduler(stop=self._stop)
        scheduler.start()
        for schedule in scheduler.schedules:
            self.where[f"schedule {schedule.name}"] = schedule.expression

    def start_queues(self) -> None:
        """The SQS event source mappings and IoT topic rules of the registry, on moto and the local broker."""
        from local.bridge import TopicBridge
        from local.queues import QueueRunner, dead_letter_queue

        # queues first: a rule's messages should land in a queue that already has its dead-letter queue
        runner = QueueRunner(stop=self._stop)
        runner.start()
        self.started.append(runner)
        for consumer in runner.consumers:
            self.where[f"queue {consumer.name}"] = (
                f"SQS {consumer.queue} → {consumer.name} (batch {consumer.batch_size},"
                f" DLQ {dead_letter_queue(consumer.queue)} after {consumer.max_receive_count} receives)"
            )
        bridge = TopicBridge(stop=self._stop, broker_url=os.environ["MQTT_URL"], credentials=self._mqtt_internal)
        if not bridge.start():
            print("topic rules: not yet subscribed on the MQTT broker; still trying", file=sys.stderr)
        self.started.append(bridge)
        for rule in bridge.rules:
            self.where[f"topic rule {rule.topic_filter}"] = f"{rule.sql} → SQS {rule.queue}"

    def serve(self) -> None:
        from local.api_gateway import Gateway, serve
        from local.services import ensure_port_free

        ensure_port_free(self.ports.http, "the HTTP API", "DOGWALK_HTTP_PORT")
        gateway = Gateway()
        if os.environ.get("DOGWALK_LOCAL_CONCURRENCY", "workers") == "workers":
            from local.workers import WorkerPool

            pool = WorkerPool(pycache=str(self.data_dir / "pycache"))
            self.started.append(pool)
            gateway = Gateway(pool=pool)
            self.where["functions"] = (
                "a warm worker process per concurrent invocation (DOGWALK_LOCAL_CONCURRENCY=serial: one at a time)"
            )
        else:
            self.where["functions"] = "in this process, one invocation at a time (DOGWALK_LOCAL_CONCURRENCY=serial)"
        server = serve(gateway, self.ports.http)
        base = f"http://127.0.0.1:{self.ports.http}"
        self.where = {"HTTP API": base, "OpenAPI": f"{base}/openapi.json", "Docs": f"{base}/docs", **self.where}
        width = max(len(name) for name in self.where)
        print("Dog Walking platform, local:", flush=True)
        for name, url in self.where.items():
            print(f"  {name:<{width}}  {url}", flush=True)
        print(f"  {'data':<{width}}  {self.data_dir}", flush=True)
        # shutdown() waits for serve_forever() to return, so it must not run on serve_forever's thread
        signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()

    def stop(self) -> None:
        self._stop.set()
        for service in reversed(self.started):
            try:
                service.stop()
            except Exception as exc:  # stop the others regardless
                print(f"stopping {type(service).__name__}: {exc}", file=sys.stderr)


def _put_signing_keys(value: str) -> None:
    from dogwalk.adapters import aws
    from dogwalk.config import settings

    aws.client("secretsmanager").create_secret(Name=settings().signing_key_secret_id, SecretString=value)


LOCAL_WEBHOOK_SECRET = "whsec_local"  # noqa: S105  # nosec B105 - localstripe's, signs only local events
LOCAL_CONNECT_WEBHOOK_SECRET = "whsec_local_connect"  # noqa: S105  # nosec B105 - signs its Connect events


def _put_local_payments_secret() -> None:
    """localstripe takes any key; the webhook secrets sign the local gateway's test events (its
    Connect events with their own, as Stripe signs each endpoint's)."""
    from dogwalk.adapters import aws
    from dogwalk.config import settings

    value = json.dumps({"api_key": "sk_test_local", "webhook_secret": LOCAL_WEBHOOK_SECRET,
                        "connect_webhook_secret": LOCAL_CONNECT_WEBHOOK_SECRET})  # fmt: skip
    aws.client("secretsmanager").create_secret(Name=settings().payments_secret_id, SecretString=value)


def _get_signing_keys() -> str:
    from dogwalk.adapters import aws
    from dogwalk.config import settings

    secret = aws.client("secretsmanager").get_secret_value(SecretId=settings().signing_key_secret_id)
    return str(secret["SecretString"])


def _redact(url: str) -> str:
    """A URL without its password, for printing."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in credentials else f"{scheme}://{user}@{host}"


def point_at_running_platform() -> None:
    """Default every connection setting to the services of a `make run` on this machine."""
    ports = Ports.from_env()
    password_file = Path(os.environ.get("DOGWALK_DATA_DIR", ROOT / ".local")) / "postgres" / "password"
    if "DATABASE_URL" not in os.environ and password_file.exists():
        password = password_file.read_text().strip()
        os.environ["DATABASE_URL"] = f"postgresql://dogwalk:{password}@127.0.0.1:{ports.postgres}/dogwalk"
    os.environ.setdefault("REDIS_URL", f"redis://127.0.0.1:{ports.redis}/0")
    if "AWS_ENDPOINT_URL" not in os.environ:
        os.environ["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{ports.moto}"
        os.environ["AWS_ACCESS_KEY_ID"] = os.environ["AWS_SECRET_ACCESS_KEY"] = "local"  # noqa: S105  # nosec B105
    os.environ.setdefault("DOGWALK_STRIPE_API_BASE", f"http://127.0.0.1:{ports.stripe}")
    os.environ.setdefault("DOGWALK_WEBSOCKET_MANAGEMENT_URL", f"http://127.0.0.1:{ports.ws}")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


def run() -> int:
    from local.services import PortTaken

    platform = Platform()
    # the gateway's imports (Powertools' resolver among them) before any thread of ours invokes a function:
    # the main thread imports outside runtime's lock (see local/runtime.py)
    import local.api_gateway  # noqa: F401

    try:
        platform.start_dependencies()
        platform.start_websocket()
        platform.start_events()
        platform.prepare()
        platform.start_queues()
        platform.start_schedules()
        platform.serve()
    except PortTaken as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        platform.stop()
    return 0
