"""The in-process MQTT broker (amqtt) that walker phones publish to locally, on its own thread.

It enforces what IoT Core's custom authorizer allows in the cloud, by the same code
(`dogwalk.tracking.device_policy`): a phone connects with its access token as the password and a client id of
its walker, and may publish only to the walks of its in-progress bookings; the walks are read
again at most every `policy_refresh_s` (a minute), so a walk that starts or ends is picked up
within it. A refused publish is dropped (amqtt acknowledges it and forwards it to no one) and
reported on stderr; phones may not subscribe. A stock OwnTracks app connects with its tracker
credentials (username and password) and may publish only under `owntracks/<username>/`. The
platform's own clients (the topic rules of `local.bridge`) connect with an internal credential
made per process: they may subscribe to everything and publish nowhere.

A broker of your own (`MQTT_URL`) enforces none of this: it is yours to configure, as IoT Core is
configured in the cloud.
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit, urlunsplit

from amqtt.contexts import Action, BaseContext
from amqtt.plugins.base import BaseAuthPlugin, BaseTopicPlugin
from amqtt.session import Session

from dogwalk.errors import Forbidden, RateLimited, Unauthorized
from dogwalk.tracking import device_policy
from local.services import ensure_port_free, serve_on_own_loop

INTERNAL_USERNAME = "dogwalk-internal"
POLICY_REFRESH_S = 60.0

T = TypeVar("T")


@dataclass(frozen=True)
class Credentials:
    """A username and password for the broker; the password is never printed."""

    username: str
    password: str = field(repr=False)

    @classmethod
    def internal(cls) -> Credentials:
        """A fresh credential for the platform's own clients, good for this process only."""
        return cls(INTERNAL_USERNAME, secrets.token_urlsafe(32))

    def url_for(self, broker_url: str) -> str:
        """`broker_url` with these credentials in it (amqtt's client reads them from the URL only)."""
        parts = urlsplit(broker_url)
        host = parts.netloc.rsplit("@", 1)[-1]
        userinfo = f"{quote(self.username, safe='')}:{quote(self.password, safe='')}"
        return urlunsplit(parts._replace(netloc=f"{userinfo}@{host}"))


def _report(message: str) -> None:
    print(f"MQTT broker: {message}", file=sys.stderr)


@dataclass
class _Access:
    """What one connection may do: kept on its amqtt session, so it lives exactly as long."""

    internal: bool
    token: str = field(default="", repr=False)
    user_id: str = ""
    walk_ids: frozenset[str] = frozenset()
    checked_at: float = 0.0
    username: str = ""
    tracker: str | None = None  # a tracker app's username: it publishes under owntracks/<it>/


_ACCESS = "dogwalk_access"  # the attribute of amqtt's Session holding the connection's _Access


class DeviceAccessPlugin(BaseAuthPlugin, BaseTopicPlugin):
    """amqtt's authentication and topic-checking plugin in one, so that both see the same connections.

    amqtt asks `authenticate` once per CONNECT (CONNACK refused on False) and `topic_filtering`
    for every SUBSCRIBE (refused: 0x80 in the SUBACK), PUBLISH (refused: acknowledged, then
    dropped) and delivery to a subscriber (RECEIVE).
    """

    @dataclass
    class Config:
        internal_username: str = INTERNAL_USERNAME
        internal_password: str = field(default="", repr=False)
        policy_refresh_s: float = POLICY_REFRESH_S

    def __init__(self, context: BaseContext) -> None:
        super().__init__(context)
        self.settings: DeviceAccessPlugin.Config = context.config
        if not self.settings.internal_password:
            raise ValueError("DeviceAccessPlugin needs the internal password")
        # the token checks read PostgreSQL, Redis and the signing keys synchronously: off the broker's loop
        self._executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="mqtt-devices")

    async def _off_loop(self, work: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, work, *args)

    async def authenticate(self, *, session: Session) -> bool:
        setattr(session, _ACCESS, None)  # a session taken over keeps nothing of the one before
        client = session.client_id or ""
        password = session.password or ""
        if session.username == self.settings.internal_username:
            if not hmac.compare_digest(password.encode(), self.settings.internal_password.encode()):
                _report(f"refused the connection of {client!r}: wrong internal password")
                return False
            setattr(session, _ACCESS, _Access(internal=True))
            return True
        if not password:
            _report(f"refused the connection of {client!r}: no access token as the password")
            return False
        username = session.username or ""
        try:
            grant = await self._off_loop(device_policy.authorize_mqtt, username, password, time.time())
        except (Unauthorized, Forbidden, RateLimited) as exc:
            _report(f"refused the connection of {client!r}: {exc.detail}")
            return False
        except Exception as exc:  # the database or the cache is down: refused, the phone retries
            _report(f"refused the connection of {client!r}: could not check its token ({type(exc).__name__})")
            return False
        if not device_policy.may_connect_as(grant, client):
            _report(f"refused the connection of {client!r}: a walker's client id is its user id or starts with it"
                    " (a tracker's: its username)")  # fmt: skip
            return False
        access = _Access(False, password, grant.user_id, grant.walk_ids, time.monotonic(), username, grant.tracker)
        setattr(session, _ACCESS, access)
        return True

    async def topic_filtering(
        self, *, session: Session | None = None, topic: str | None = None, action: Action | None = None
    ) -> bool:
        access: _Access | None = getattr(session, _ACCESS, None) if session is not None else None
        client = session.client_id if session is not None else None
        if access is None or not topic:
            return False
        if access.internal:
            if action == Action.PUBLISH:
                _report(f"dropped a publish of internal client {client!r} to {topic}: internal clients only listen")
                return False
            return True
        if action == Action.SUBSCRIBE:
            _report(f"refused the subscription of {client!r} to {topic}: phones only publish")
        if action != Action.PUBLISH:
            return False
        if time.monotonic() - access.checked_at >= self.settings.policy_refresh_s:
            await self._refresh(access, client)
        if device_policy.may_publish(access.walk_ids, topic, tracker=access.tracker):
            return True
        if access.tracker is not None:
            _report(f"dropped a publish of {client!r} (tracker {access.tracker}) to {topic}: not under its own topic")
            return False
        _report(f"dropped a publish of {client!r} (walker {access.user_id}) to {topic}: not a walk of theirs under way")
        return False

    async def _refresh(self, access: _Access, client: str | None) -> None:
        """The walks under way again, as IoT Core's policy refresh does; an expired token allows none."""
        try:
            grant = await self._off_loop(device_policy.authorize_mqtt, access.username, access.token, time.time())
        except (Unauthorized, Forbidden, RateLimited) as exc:
            _report(f"{client!r} may publish nowhere now: {exc.detail} (reconnect with a new token)")
            access.walk_ids, access.checked_at = frozenset(), time.monotonic()
            access.tracker = "" if access.tracker is not None else None  # a revoked tracker: no topic of its own
            return
        except Exception as exc:  # keep what was allowed; try again at the next publish
            _report(f"could not refresh what {client!r} may publish ({type(exc).__name__})")
            return
        access.walk_ids, access.checked_at = grant.walk_ids, time.monotonic()

    async def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


class MqttBroker:
    def __init__(self, port: int, internal: Credentials | None = None, policy_refresh_s: float = POLICY_REFRESH_S):
        self.port = port
        # the credential of the platform's own clients (the topic rules)
        self.internal = internal or Credentials.internal()
        self.policy_refresh_s = policy_refresh_s
        self._loop: asyncio.AbstractEventLoop | None = None
        self._broker: Any = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def config(self) -> dict[str, Any]:
        access = {
            "internal_username": self.internal.username,
            "internal_password": self.internal.password,
            "policy_refresh_s": float(self.policy_refresh_s),
        }
        return {
            "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{self.port}"}},
            "plugins": {f"{DeviceAccessPlugin.__module__}.{DeviceAccessPlugin.__qualname__}": access},
        }

    def start(self) -> str:
        ensure_port_free(self.port, "the MQTT broker", "DOGWALK_MQTT_PORT")

        async def boot() -> None:
            from amqtt.broker import Broker

            self._broker = Broker(self.config())
            await self._broker.start()

        self._loop, self._thread = serve_on_own_loop("mqtt-broker", boot)
        return self.url

    def stop(self) -> None:
        if self._loop is None or self._broker is None:
            return
        asyncio.run_coroutine_threadsafe(self._broker.shutdown(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
