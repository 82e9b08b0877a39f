"""The in-process MQTT broker (amqtt) that walker phones publish to locally, on its own thread."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future
from typing import Any

from local.services import ensure_port_free


class MqttBroker:
    def __init__(self, port: int):
        self.port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._broker: Any = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def config(self) -> dict[str, Any]:
        return {
            "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{self.port}"}},
            "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
        }

    def start(self) -> str:
        ensure_port_free(self.port, "the MQTT broker", "DOGWALK_MQTT_PORT")
        started: Future[None] = Future()

        def run() -> None:
            from amqtt.broker import Broker

            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop

            async def boot() -> None:
                self._broker = Broker(self.config())
                await self._broker.start()

            try:
                loop.run_until_complete(boot())
            except BaseException as exc:  # reported to the starting thread
                started.set_exception(exc)
                return
            started.set_result(None)
            loop.run_forever()

        self._thread = threading.Thread(target=run, name="mqtt-broker", daemon=True)
        self._thread.start()
        started.result(timeout=30)
        return self.url

    def stop(self) -> None:
        if self._loop is None or self._broker is None:
            return
        asyncio.run_coroutine_threadsafe(self._broker.shutdown(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
