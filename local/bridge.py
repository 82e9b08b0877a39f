"""Forwards MQTT messages from the broker to SQS queues, as the registered IoT topic rules do in the cloud."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import sys
import threading
import uuid
from typing import TYPE_CHECKING, Any

from dogwalk import registry
from dogwalk.adapters import aws

if TYPE_CHECKING:
    from local.mqtt import Credentials


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def rule_message(topic: str, payload: bytes) -> dict[str, Any]:
    """What a rule's `TopicRule.sql`, `SELECT *, topic() AS topic FROM '<topic_filter>'`, sends to its queue.

    A payload that is a JSON object arrives as that object with `"topic"` added. Any other payload
    (binary, text, a JSON array or scalar) arrives as `{"topic": ..., "payload_base64": ...}`: a
    convention of this local bridge, since such a payload has no fields for `*` to select.
    """
    try:
        document = json.loads(payload, parse_constant=_refuse_constant)
    except ValueError:  # UnicodeDecodeError included
        document = None
    if isinstance(document, dict):
        return {**document, "topic": topic}
    return {"topic": topic, "payload_base64": base64.b64encode(payload).decode("ascii")}


class TopicBridge:
    """One MQTT client per rule (QoS 1), on a thread and event loop of its own, like the broker.

    A client per rule, rather than one client for all filters, gives each rule its own copy of a
    message that several rules match, as IoT does. A lost connection is re-established and the
    filter subscribed again. A message whose forwarding fails is dropped and reported, as a rule
    without an error action drops it. On the platform's own broker the clients connect with its
    internal credential (`credentials`); on a broker of your own, with what `broker_url` carries.
    """

    def __init__(
        self,
        stop: threading.Event,
        broker_url: str,
        rules: tuple[registry.TopicRule, ...] = registry.TOPIC_RULES,
        retry_s: float = 1.0,
        credentials: Credentials | None = None,
    ):
        self.stop_event = stop
        self.broker_url = broker_url
        self._connect_url = credentials.url_for(broker_url) if credentials else broker_url
        self.rules = rules
        self.retry_s = retry_s
        self._urls: dict[str, str] = {}
        self._subscribed = 0
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, wait_s: float = 10.0) -> bool:
        """Start forwarding; whether every rule has subscribed within `wait_s` (it keeps trying after)."""
        if not self.rules:
            return True
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), name="topic-rules", daemon=True)
        self._thread.start()
        return self._ready.wait(wait_s)

    def stop(self) -> None:
        self.stop_event.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    async def _run(self) -> None:
        await asyncio.gather(*(self._follow(rule) for rule in self.rules))

    async def _follow(self, rule: registry.TopicRule) -> None:
        from amqtt.client import MQTTClient
        from amqtt.mqtt.constants import QOS_1

        first = True
        while not self.stop_event.is_set():
            # reconnecting is ours, so that the subscription is made again on every new session
            client = MQTTClient(client_id=f"iot-rule-{uuid.uuid4().hex[:12]}", config={"auto_reconnect": False})
            try:
                await client.connect(self._connect_url)
                if 0x80 in await client.subscribe([(rule.topic_filter, QOS_1)]):
                    raise ConnectionError(f"the broker refused the subscription to {rule.topic_filter!r}")
                if first:
                    first = False
                    self._subscribed += 1
                    if self._subscribed == len(self.rules):
                        self._ready.set()
                await self._forward_until_stopped(client, rule)
            except Exception as exc:  # the broker is down or restarting: connect again
                if not self.stop_event.is_set():
                    print(f"topic rule {rule.topic_filter!r}: {exc!r}; reconnecting", file=sys.stderr)
                    await asyncio.sleep(self.retry_s)
            finally:
                if client.session is not None and client.session.transitions.is_connected():
                    with contextlib.suppress(Exception):  # leaving anyway; the broker drops the session
                        await client.disconnect()

    async def _forward_until_stopped(self, client: Any, rule: registry.TopicRule) -> None:
        while not self.stop_event.is_set():
            try:
                # bounded, so that the stop event is seen within half a second
                message = await client.deliver_message(timeout_duration=0.5)
            except TimeoutError:
                continue
            if message is None:  # amqtt's answer once the connection has gone
                raise ConnectionError("lost the connection to the broker")
            try:
                await asyncio.to_thread(self.forward, rule, message.topic, bytes(message.data))
            except Exception as exc:
                print(
                    f"topic rule {rule.topic_filter!r} dropped a message on {message.topic}: {exc!r}", file=sys.stderr
                )

    def forward(self, rule: registry.TopicRule, topic: str, payload: bytes) -> None:
        """Send one message to the rule's queue, as the rule's SQS action does."""
        body = json.dumps(rule_message(topic, payload), separators=(",", ":"))
        aws.client("sqs").send_message(QueueUrl=self._url(rule.queue), MessageBody=body)

    def _url(self, queue: str) -> str:
        if queue not in self._urls:
            sqs = aws.client("sqs")
            try:
                self._urls[queue] = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
            except sqs.exceptions.QueueDoesNotExist:  # a rule whose queue no consumer reads: the cloud has it
                self._urls[queue] = sqs.create_queue(QueueName=queue)["QueueUrl"]
        return self._urls[queue]
