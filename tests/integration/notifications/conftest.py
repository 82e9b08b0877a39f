"""Shared by the notifications tests: the bookings suite's people and card, the events topic and
its channel queues on moto, reading what a queue holds, the channel consumers run as the event
source mapping runs them, and what moto's SES and SNS were asked to send."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from dogwalk import registry
from dogwalk.adapters import aws
from dogwalk.events import relay
from local import runtime
from local.queues import failed_message_ids, sqs_event
from tests.integration.bookings.conftest import admin, card, database_url, owner, walker  # noqa: F401 - fixtures
from tests.integration.marketplace.conftest import rows


def drain(queue: str) -> list[dict[str, Any]]:
    """Every message in the queue (deleted as read): the raw events the channel consumer would get."""
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    found: list[dict[str, Any]] = []
    while True:
        answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
        messages = answer.get("Messages", [])
        if not messages:
            return found
        for message in messages:
            found.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


@pytest.fixture
def senders(events_topic: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """The events topic and channel queues, the SES sender and the push applications, on moto, as
    `make run` makes them."""
    from dogwalk.config import settings
    from local.senders import ensure_notification_senders

    made = ensure_notification_senders()
    for name, value in made.items():
        monkeypatch.setenv(name, value)
    settings.cache_clear()
    yield made
    settings.cache_clear()


def consumer(name: str) -> registry.QueueConsumer:
    return next(each for each in registry.QUEUE_CONSUMERS if each.name == name)


@dataclass(frozen=True)
class Invocation:
    event: dict[str, Any]  # the SQS event the consumer got
    answer: Any  # its partial batch response

    def message_id_of(self, event_id: str) -> str:
        return next(r["messageId"] for r in self.event["Records"] if json.loads(r["body"])["id"] == event_id)


def consume(name: str) -> list[Invocation]:
    """What the event source mapping does, without its long poll: the consumer invoked on every
    message its queue holds, those it did not report failed deleted."""
    queue = consumer(name).queue
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    invocations = []
    while True:
        messages = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"], MessageAttributeNames=["All"]
        ).get("Messages", [])
        if not messages:
            return invocations
        event = sqs_event(messages, arn, sqs.meta.region_name)
        answer = runtime.invoke(consumer(name), event)
        invocations.append(Invocation(event, answer))
        failed = failed_message_ids(answer, {message["MessageId"] for message in messages})
        for message in messages:
            if message["MessageId"] not in failed:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def visible_again(queue: str, *records: dict[str, Any]) -> None:
    """What the visibility timeout does when it runs out, without waiting for it."""
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    for record in records:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=record["receiptHandle"], VisibilityTimeout=0)


NOTIFY = ("notify_inbox", "notify_push", "notify_email", "notify_sms")


def notify_all() -> None:
    """Publish what the outbox holds and run every channel consumer on it."""
    relay.publish()
    for name in NOTIFY:
        consume(name)


def sent_emails() -> list[Any]:
    """What moto's SES accepted (subject, body: the HTML part, destinations)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return list(ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages)


def sent_texts() -> list[tuple[str, str]]:
    """(phone number, message) of every SMS moto's SNS accepted."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sns.models import sns_backends

    return list(sns_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sms_messages.values())


def pushes_to(endpoint_arn: str) -> list[dict[str, Any]]:
    """The messages (MessageStructure=json, parsed) published to one platform endpoint on moto."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sns.models import sns_backends

    endpoint = sns_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].platform_endpoints.get(endpoint_arn)
    return [json.loads(message) for message in endpoint.messages.values()] if endpoint else []


def endpoint_of(device_id: str) -> str:
    return str(rows(database_url(), "SELECT endpoint_arn FROM devices WHERE id = %s", device_id)[0]["endpoint_arn"])


def inbox_of(user_id: str) -> list[dict[str, Any]]:
    return rows(database_url(), "SELECT event_id::text, event_type, title, body, data FROM notifications"
                                " WHERE user_id = %s ORDER BY created_at", user_id)  # fmt: skip


def deliveries_of(event_id: str) -> dict[str, dict[str, Any]]:
    found = rows(database_url(), "SELECT channel, status, detail, due_at FROM notification_deliveries"
                                 " WHERE event_id = %s", event_id)  # fmt: skip
    return {row["channel"]: row for row in found}
