"""Queue consumers fed as Lambda's SQS event source mapping feeds them (moto's SQS), and topic rules
forwarding a real MQTT broker's messages to their queues as IoT rules do."""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.parser.models import SqsModel

from dogwalk.adapters import aws
from dogwalk.registry import QueueConsumer, TopicRule
from local.bridge import TopicBridge, rule_message
from local.mqtt import Credentials, MqttBroker
from local.queues import QueueRunner
from local.services import free_port
from tests.integration.bookings.conftest import admin, card, owner, walker  # noqa: F401 - fixtures
from tests.integration.marketplace.conftest import Caller
from tests.integration.tracking.conftest import Walk, walk  # noqa: F401 - a walk under way, its walker publishing

Handler = Callable[[dict[str, Any], Any], Any]


@pytest.fixture
def stop() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()


def consumer_of(monkeypatch: pytest.MonkeyPatch, handler: Handler, **settings: Any) -> QueueConsumer:
    """A test-only consumer whose module `functions/<name>.py` is `handler`."""
    consumer = QueueConsumer(**{"name": "test_consumer", "queue": "test-walk-events", **settings})
    monkeypatch.setitem(sys.modules, consumer.name, types.SimpleNamespace(lambda_handler=handler))
    return consumer


def runner_for(consumer: QueueConsumer, stop: threading.Event) -> QueueRunner:
    runner = QueueRunner(stop, (consumer,))
    runner.ensure_queues()
    return runner


def url_of(queue: str) -> str:
    return str(aws.client("sqs").get_queue_url(QueueName=queue)["QueueUrl"])


def send(queue: str, *bodies: str, **options: Any) -> None:
    for body in bodies:
        aws.client("sqs").send_message(QueueUrl=url_of(queue), MessageBody=body, **options)


def messages_in(queue: str) -> int:
    """Visible and in flight: every message not yet deleted."""
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attributes = aws.client("sqs").get_queue_attributes(QueueUrl=url_of(queue), AttributeNames=names)["Attributes"]
    return sum(int(attributes[name]) for name in names)


def visible_again(queue: str, *records: dict[str, Any]) -> None:
    """What the visibility timeout does when it runs out, without waiting for it."""
    for record in records:
        aws.client("sqs").change_message_visibility(
            QueueUrl=url_of(queue), ReceiptHandle=record["receiptHandle"], VisibilityTimeout=0
        )


def bodies(event: dict[str, Any]) -> list[Any]:
    return [json.loads(record["body"]) for record in event["Records"]]


def test_a_batch_arrives_as_the_event_lambda_sends_and_is_deleted_after_success(
    monkeypatch: pytest.MonkeyPatch, stop: threading.Event
) -> None:
    events: list[dict[str, Any]] = []
    consumer = consumer_of(monkeypatch, lambda event, context: events.append(event))
    runner = runner_for(consumer, stop)
    send(consumer.queue, '{"n": 1}', MessageAttributes={"kind": {"DataType": "String", "StringValue": "gps"}})
    send(consumer.queue, '{"n": 2}')

    assert runner.poll_once(consumer) == 2

    (event,) = events
    SqsModel.model_validate(event)
    assert sorted(body["n"] for body in bodies(event)) == [1, 2]
    record = next(record for record in event["Records"] if record["messageAttributes"])
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == "arn:aws:sqs:us-east-1:123456789012:test-walk-events"
    assert record["awsRegion"] == "us-east-1"
    assert record["md5OfBody"] == hashlib.md5(record["body"].encode()).hexdigest()  # noqa: S324  # SQS's checksum
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert {"SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"} <= set(record["attributes"])
    assert record["messageAttributes"] == {
        "kind": {"stringValue": "gps", "stringListValues": [], "binaryListValues": [], "dataType": "String"}
    }
    assert messages_in(consumer.queue) == 0


def test_a_partial_batch_failure_keeps_only_the_failed_message_which_comes_back(
    monkeypatch: pytest.MonkeyPatch, stop: threading.Event
) -> None:
    events: list[dict[str, Any]] = []
    processor = BatchProcessor(event_type=EventType.SQS)

    def record_handler(record: SQSRecord) -> None:
        if json.loads(record.body)["n"] == 2 and record.attributes.approximate_receive_count == "1":
            raise ValueError("the walk of message 2 is not known yet")

    def lambda_handler(event: dict[str, Any], context: Any) -> Any:
        events.append(event)
        return process_partial_response(event=event, record_handler=record_handler, processor=processor)

    consumer = consumer_of(monkeypatch, lambda_handler)
    runner = runner_for(consumer, stop)
    send(consumer.queue, '{"n": 1}', '{"n": 2}', '{"n": 3}')

    assert runner.poll_once(consumer) == 3
    assert messages_in(consumer.queue) == 1
    (failed,) = [record for record in events[0]["Records"] if json.loads(record["body"])["n"] == 2]
    visible_again(consumer.queue, failed)

    assert runner.poll_once(consumer) == 1
    (again,) = events[1]["Records"]
    assert again["messageId"] == failed["messageId"]
    assert again["attributes"]["ApproximateReceiveCount"] == "2"
    assert messages_in(consumer.queue) == 0


def test_a_handler_that_raises_gets_the_whole_batch_again(
    monkeypatch: pytest.MonkeyPatch, stop: threading.Event
) -> None:
    events: list[dict[str, Any]] = []

    def lambda_handler(event: dict[str, Any], context: Any) -> None:
        events.append(event)
        if len(events) == 1:
            raise RuntimeError("the database is down")

    consumer = consumer_of(monkeypatch, lambda_handler)
    runner = runner_for(consumer, stop)
    send(consumer.queue, '{"n": 1}', '{"n": 2}')

    assert runner.poll_once(consumer) == 2
    assert messages_in(consumer.queue) == 2
    visible_again(consumer.queue, *events[0]["Records"])

    assert runner.poll_once(consumer) == 2
    assert {r["messageId"] for r in events[1]["Records"]} == {r["messageId"] for r in events[0]["Records"]}
    assert {r["attributes"]["ApproximateReceiveCount"] for r in events[1]["Records"]} == {"2"}
    assert messages_in(consumer.queue) == 0


def test_a_poison_message_lands_in_the_dead_letter_queue_after_max_receive_count(
    monkeypatch: pytest.MonkeyPatch, stop: threading.Event
) -> None:
    events: list[dict[str, Any]] = []

    def lambda_handler(event: dict[str, Any], context: Any) -> None:
        events.append(event)
        raise ValueError("cannot parse this point")

    consumer = consumer_of(monkeypatch, lambda_handler, max_receive_count=2)
    runner = runner_for(consumer, stop)
    send(consumer.queue, '{"poison": true}')

    for _ in range(consumer.max_receive_count):
        assert runner.poll_once(consumer) == 1
        visible_again(consumer.queue, *events[-1]["Records"])
    assert runner.poll_once(consumer) == 0

    assert len(events) == consumer.max_receive_count
    assert messages_in(consumer.queue) == 0
    dead = aws.client("sqs").receive_message(QueueUrl=url_of("test-walk-events-dlq"))["Messages"]
    assert [message["Body"] for message in dead] == ['{"poison": true}']


def test_a_batch_larger_than_one_receive_is_assembled_up_to_the_batch_size(
    monkeypatch: pytest.MonkeyPatch, stop: threading.Event
) -> None:
    events: list[dict[str, Any]] = []
    consumer = consumer_of(monkeypatch, lambda event, context: events.append(event), batch_size=25)
    runner = runner_for(consumer, stop)
    for first in range(0, 30, 10):
        entries = [{"Id": str(n), "MessageBody": json.dumps({"n": n})} for n in range(first, first + 10)]
        aws.client("sqs").send_message_batch(QueueUrl=url_of(consumer.queue), Entries=entries)

    assert runner.poll_once(consumer) == 25
    assert runner.poll_once(consumer) == 5

    assert [len(event["Records"]) for event in events] == [25, 5]
    assert sorted(body["n"] for event in events for body in bodies(event)) == list(range(30))
    assert messages_in(consumer.queue) == 0


def test_started_pollers_feed_the_consumer_until_stopped(
    monkeypatch: pytest.MonkeyPatch, stop: threading.Event
) -> None:
    delivered = threading.Event()
    consumer = consumer_of(monkeypatch, lambda event, context: delivered.set())
    runner = QueueRunner(stop, (consumer,))
    runner.start()
    try:
        send(consumer.queue, '{"n": 1}')

        assert delivered.wait(timeout=5)
    finally:
        runner.stop()
    assert messages_in(consumer.queue) == 0


def test_a_topic_rule_is_the_iot_sql_that_adds_the_topic() -> None:
    rule = TopicRule(name="gps", topic_filter="walks/+/gps", queue="gps-points")

    assert rule.sql == "SELECT *, topic() AS topic FROM 'walks/+/gps'"
    assert rule_message("walks/w1/gps", b'{"lat": 48.85}') == {"lat": 48.85, "topic": "walks/w1/gps"}
    assert rule_message("walks/w1/gps", b"[1, 2]") == {"topic": "walks/w1/gps", "payload_base64": "WzEsIDJd"}
    assert rule_message("walks/w1/gps", b"\xff") == {"topic": "walks/w1/gps", "payload_base64": "/w=="}


@pytest.fixture
def broker() -> Iterator[MqttBroker]:
    broker = MqttBroker(free_port())
    broker.start()
    yield broker
    broker.stop()


async def publish(broker: MqttBroker, phone: Caller, *messages: tuple[str, bytes]) -> None:
    """A walker's phone publishing: the local broker takes only its walks' topics (see test_device_auth)."""
    from amqtt.client import MQTTClient
    from amqtt.mqtt.constants import QOS_1

    client = MQTTClient(client_id=phone.id, config={"auto_reconnect": False})
    await client.connect(Credentials("walker-phone", phone.token).url_for(broker.url))
    for topic, payload in messages:
        await client.publish(topic, payload, qos=QOS_1)
    await client.disconnect()


def test_an_mqtt_message_on_a_matching_topic_reaches_the_consumer_with_its_topic(
    monkeypatch: pytest.MonkeyPatch,
    stop: threading.Event,
    broker: MqttBroker,
    walk: Walk,  # noqa: F811 - the fixture imported above
) -> None:
    records: list[dict[str, Any]] = []
    consumer = consumer_of(
        monkeypatch, lambda event, context: records.extend(event["Records"]), queue="test-gps", batch_size=100
    )
    runner = runner_for(consumer, stop)
    rule = TopicRule(name="test_gps", topic_filter="dogwalk/walks/+/location", queue="test-gps")
    bridge = TopicBridge(stop, broker.url, (rule,), credentials=broker.internal)
    assert bridge.start(wait_s=5)
    location, event = f"dogwalk/walks/{walk.id}/location", f"dogwalk/walks/{walk.id}/event"
    try:
        # the non-matching message goes first: had it been forwarded, it would arrive before the others
        asyncio.run(
            publish(
                broker,
                walk.walker,
                (event, b'{"type": "pee"}'),
                (location, b'{"lat": 48.85, "lon": 2.35}'),
                (location, b"\x00\x01"),
            )
        )
        deadline = time.monotonic() + 5
        while len(records) < 2 and time.monotonic() < deadline:
            runner.poll_once(consumer)  # waits up to a second for a message
    finally:
        bridge.stop()

    assert sorted((json.loads(record["body"]) for record in records), key=lambda body: "lat" in body) == [
        {"topic": location, "payload_base64": "AAE="},
        {"lat": 48.85, "lon": 2.35, "topic": location},
    ]
    assert messages_in(consumer.queue) == 0


def test_the_topic_rules_need_the_platforms_credential(stop: threading.Event, broker: MqttBroker) -> None:
    rule = TopicRule(name="test_gps", topic_filter="dogwalk/walks/+/location", queue="test-gps")
    anonymous = TopicBridge(stop, broker.url, (rule,), retry_s=0.1)
    try:
        assert not anonymous.start(wait_s=0.5)
    finally:
        anonymous.stop()
