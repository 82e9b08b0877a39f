"""Feeds each registered queue consumer from its SQS queue, as Lambda's SQS event source mapping does."""

from __future__ import annotations

import base64
import contextlib
import json
import sys
import threading
import traceback
from typing import Any

from dogwalk import registry
from dogwalk.adapters import aws
from local import runtime

# SQS hands out at most this many messages per ReceiveMessage and deletes at most this many per call.
SQS_MAX_MESSAGES = 10


def dead_letter_queue(queue: str) -> str:
    return f"{queue}-dlq"


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """The event Lambda sends for a batch of messages received from `queue_arn`."""
    return {"Records": [_record(message, queue_arn, region) for message in messages]}


def _record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {
            name: _message_attribute(value) for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
    if "MD5OfMessageAttributes" in message:
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def _message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    """SQS API spelling (`StringValue`, binary as bytes) to Lambda event spelling (`stringValue`, base64)."""
    attribute: dict[str, Any] = {}
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        attribute["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode("ascii")
    attribute["stringListValues"] = list(value.get("StringListValues", []))
    attribute["binaryListValues"] = [
        base64.b64encode(item).decode("ascii") for item in value.get("BinaryListValues", [])
    ]
    attribute["dataType"] = value["DataType"]
    return attribute


def failed_message_ids(answer: Any, batch_ids: set[str]) -> set[str]:
    """The messages to keep, read from a partial batch response (`ReportBatchItemFailures`).

    Lambda treats a null or empty answer, or a null or empty `batchItemFailures`, as complete
    success, and an item it cannot match to a message of the batch as complete failure.
    """
    if answer is None:
        return set()
    if not isinstance(answer, dict):
        print(f"not a partial batch response; the whole batch is retried: {answer!r}", file=sys.stderr)
        return set(batch_ids)
    failures = answer.get("batchItemFailures") or []
    failed = {item.get("itemIdentifier") if isinstance(item, dict) else None for item in failures}
    if not failed <= batch_ids:
        print(
            f"batchItemFailures names messages not in the batch; the whole batch is retried: {failures!r}",
            file=sys.stderr,
        )
        return set(batch_ids)
    return {identifier for identifier in failed if isinstance(identifier, str)}


class QueueRunner:
    """One poller per consumer: receive a batch, invoke the function, delete what it did not report failed.

    Not emulated: the batching window (a batch is whatever the queue holds, up to `batch_size`),
    the scaling to several concurrent pollers, and the backoff after failed batches.
    """

    def __init__(
        self,
        stop: threading.Event,
        consumers: tuple[registry.QueueConsumer, ...] = registry.QUEUE_CONSUMERS,
        visibility_timeout_s: int = 5,
        retry_s: float = 1.0,
    ):
        self.stop_event = stop
        self.consumers = consumers
        # short, so that a failed message comes back within seconds rather than the cloud's minutes
        self.visibility_timeout_s = visibility_timeout_s
        self.retry_s = retry_s
        self._urls: dict[str, str] = {}
        self._arns: dict[str, str] = {}
        self._threads: list[threading.Thread] = []

    def ensure_queues(self) -> None:
        """Each consumer's queue and its dead-letter queue; existing queues get the current settings."""
        sqs = aws.client("sqs")
        for consumer in self.consumers:
            dlq = dead_letter_queue(consumer.queue)
            self._urls[dlq] = sqs.create_queue(QueueName=dlq)["QueueUrl"]
            # created bare, then configured: CreateQueue refuses an existing queue whose attributes differ
            url = sqs.create_queue(QueueName=consumer.queue)["QueueUrl"]
            redrive = {"deadLetterTargetArn": self._arn(dlq), "maxReceiveCount": consumer.max_receive_count}
            sqs.set_queue_attributes(
                QueueUrl=url,
                Attributes={
                    "RedrivePolicy": json.dumps(redrive),
                    "VisibilityTimeout": str(self.visibility_timeout_s),
                },
            )
            self._urls[consumer.queue] = url

    def start(self) -> None:
        if not self.consumers:
            return
        self.ensure_queues()
        for consumer in self.consumers:
            thread = threading.Thread(target=self._loop, args=(consumer,), name=f"sqs-{consumer.name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self.stop_event.set()
        for thread in self._threads:
            thread.join(timeout=15)

    def _loop(self, consumer: registry.QueueConsumer) -> None:
        while not self.stop_event.is_set():
            try:
                self.poll_once(consumer)
            except Exception as exc:  # SQS unreachable for a moment: poll again, as the mapping would
                if self.stop_event.is_set():
                    return
                print(f"polling {consumer.queue} for {consumer.name} failed: {exc!r}", file=sys.stderr)
                self.stop_event.wait(self.retry_s)

    def poll_once(self, consumer: registry.QueueConsumer) -> int:
        """One round of the event source mapping; returns how many messages the function was given."""
        messages = self.receive_batch(consumer)
        if not messages:
            return 0
        sqs = aws.client("sqs")
        event = sqs_event(messages, self._arn(consumer.queue), sqs.meta.region_name)
        try:
            answer = runtime.invoke(consumer, event)
        except Exception:  # like Lambda: the whole batch becomes visible again after the visibility timeout
            print(f"{consumer.name} failed on a batch of {len(messages)}:", file=sys.stderr)
            traceback.print_exc()
            return len(messages)
        failed = failed_message_ids(answer, {message["MessageId"] for message in messages})
        self._delete(consumer.queue, [message for message in messages if message["MessageId"] not in failed])
        return len(messages)

    def receive_batch(self, consumer: registry.QueueConsumer) -> list[dict[str, Any]]:
        """Up to `batch_size` messages, from as many receives as it takes; the first waits a second."""
        sqs = aws.client("sqs")
        batch: dict[str, dict[str, Any]] = {}
        wait_s = 1
        while len(batch) < consumer.batch_size:
            answer = sqs.receive_message(
                QueueUrl=self._url(consumer.queue),
                MaxNumberOfMessages=min(SQS_MAX_MESSAGES, consumer.batch_size - len(batch)),
                WaitTimeSeconds=wait_s,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
            received = answer.get("Messages", [])
            # a message seen again (visibility timeout 0) carries the newer receipt handle, the one delete needs
            new = [message for message in received if message["MessageId"] not in batch]
            batch.update((message["MessageId"], message) for message in received)
            if not new:
                break
            wait_s = 0
        return list(batch.values())

    def _delete(self, queue: str, messages: list[dict[str, Any]]) -> None:
        sqs = aws.client("sqs")
        for start in range(0, len(messages), SQS_MAX_MESSAGES):
            chunk = messages[start : start + SQS_MAX_MESSAGES]
            entries = [{"Id": str(index), "ReceiptHandle": m["ReceiptHandle"]} for index, m in enumerate(chunk)]
            answer = sqs.delete_message_batch(QueueUrl=self._url(queue), Entries=entries)
            for failure in answer.get("Failed", []):
                print(f"deleting a message from {queue} failed: {failure}", file=sys.stderr)

    def _url(self, queue: str) -> str:
        if queue not in self._urls:
            self._urls[queue] = aws.client("sqs").get_queue_url(QueueName=queue)["QueueUrl"]
        return self._urls[queue]

    def _arn(self, queue: str) -> str:
        if queue not in self._arns:
            attributes = aws.client("sqs").get_queue_attributes(QueueUrl=self._url(queue), AttributeNames=["QueueArn"])
            self._arns[queue] = attributes["Attributes"]["QueueArn"]
        return self._arns[queue]


EVENTS_TOPIC = "dogwalk-local-events"


def ensure_events_topic(consumers: tuple[registry.QueueConsumer, ...] = registry.QUEUE_CONSUMERS) -> str:
    """The events topic and, for each consumer that takes domain events, its queue's subscription
    (raw message delivery, filtered on `event_type`), as the CDK app makes them; the topic's ARN.
    The queues must exist (`QueueRunner.ensure_queues`)."""
    sns, sqs = aws.client("sns"), aws.client("sqs")
    topic = sns.create_topic(Name=EVENTS_TOPIC)["TopicArn"]
    subscribed = {sub["Endpoint"] for sub in sns.list_subscriptions_by_topic(TopicArn=topic).get("Subscriptions", [])}
    for consumer in consumers:
        if not consumer.events:
            continue
        url = sqs.get_queue_url(QueueName=consumer.queue)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        if arn in subscribed:
            continue
        attributes = {"RawMessageDelivery": "true"}
        if "*" not in consumer.events:
            attributes["FilterPolicy"] = json.dumps({"event_type": list(consumer.events)})
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes=attributes)
    return str(topic)


def ensure_photo_bucket() -> str:
    """The walk photo bucket and its object-created notification (uploads under `walks/`) to the
    photo check's queue, as the CDK app makes them (S3 → SQS → the consumer, whose event source
    mapping `QueueRunner` is); the bucket's name. The queue must exist (`QueueRunner.ensure_queues`)."""
    from dogwalk.config import settings
    from dogwalk.tracking.registry import WALK_PHOTOS_QUEUE

    s3, sqs = aws.s3(), aws.client("sqs")
    bucket = settings().photos_bucket
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou, s3.exceptions.BucketAlreadyExists):
        s3.create_bucket(Bucket=bucket)
    url = sqs.get_queue_url(QueueName=WALK_PHOTOS_QUEUE)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    uploads = {
        "Id": "walk-photo-uploads",
        "QueueArn": arn,
        "Events": ["s3:ObjectCreated:*"],
        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "walks/"}]}},
    }
    s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"QueueConfigurations": [uploads]}
    )
    return str(bucket)
