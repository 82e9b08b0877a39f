"""At-least-once in, once out: a duplicate SNS delivery, a relay that crashed after publishing and
a retried batch each reach the user once; a record that fails is the only one retried; a message
no consumer can read ends in the dead-letter queue after the redrive count."""

from __future__ import annotations

import json
import sys
import threading
import types
from typing import Any

import psycopg
import pytest

from dogwalk.adapters import aws, db
from dogwalk.events import outbox, relay
from local.queues import QueueRunner, dead_letter_queue
from tests.conftest import Dependencies, insert_user
from tests.integration.marketplace.conftest import Caller, run_sql
from tests.integration.notifications.conftest import (
    consume,
    consumer,
    database_url,
    deliveries_of,
    drain,
    inbox_of,
    notify_all,
    sent_emails,
    visible_again,
)


@pytest.fixture
def walker(state: Dependencies) -> Caller:
    """A walker with nothing in the outbox yet (no profile, no verification)."""
    user = insert_user(state.database_url, "walker")
    return Caller(user.id, "walker", "")


def payout(walker_id: str, amount_cents: int = 12000) -> str:
    """A payout.sent for the walker: inbox, push and (by default) email."""
    told = {"payout_id": "p", "amount_cents": amount_cents, "currency": "USD", "period": "2026-W47"}
    with db.transaction() as conn:
        return outbox.record(conn, "payout.sent", walker_id, "walker", told)


def queue_url(queue: str) -> str:
    return str(aws.client("sqs").get_queue_url(QueueName=queue)["QueueUrl"])


def statuses(event_id: str) -> dict[str, str]:
    return {channel: row["status"] for channel, row in deliveries_of(event_id).items()}


def test_a_duplicate_sns_delivery_writes_one_inbox_row_and_sends_one_email(senders, walker: Caller) -> None:
    event_id = payout(walker.id)
    relay.publish()
    sqs = aws.client("sqs")
    for queue in ("notifications-inbox", "notifications-email"):  # SNS delivers the message twice more
        (body,) = [json.dumps(message) for message in drain(queue)]
        for _ in range(3):
            sqs.send_message(QueueUrl=queue_url(queue), MessageBody=body)

    consume("notify_inbox")
    consume("notify_email")

    assert [row["event_id"] for row in inbox_of(walker.id)] == [event_id]
    assert [m.subject for m in sent_emails()] == ["Payout sent"]
    assert statuses(event_id) == {"inbox": "sent", "email": "sent"}


def refuse_marking_published() -> None:
    """The relay's UPDATE of published_at fails after SNS took the events: a crash between the
    publish and the commit."""
    run_sql(database_url(), "CREATE OR REPLACE FUNCTION refuse_publish_mark() RETURNS trigger LANGUAGE plpgsql"
                            " AS $$ BEGIN RAISE EXCEPTION 'the relay died here'; END $$")  # fmt: skip
    run_sql(database_url(), "CREATE TRIGGER refuse_publish_mark BEFORE UPDATE ON outbox"
                            " FOR EACH ROW EXECUTE FUNCTION refuse_publish_mark()")  # fmt: skip


def allow_marking_published() -> None:
    run_sql(database_url(), "DROP TRIGGER IF EXISTS refuse_publish_mark ON outbox")
    run_sql(database_url(), "DROP FUNCTION IF EXISTS refuse_publish_mark()")


def test_a_relay_crash_after_publishing_notifies_once(senders, walker: Caller) -> None:
    event_id = payout(walker.id)
    refuse_marking_published()
    try:
        with pytest.raises(psycopg.errors.RaiseException):
            relay.publish()
    finally:
        allow_marking_published()

    notify_all()  # the sweep publishes the event again: each channel queue holds it twice

    assert [row["event_id"] for row in inbox_of(walker.id)] == [event_id]
    assert [m.subject for m in sent_emails()] == ["Payout sent"]
    assert statuses(event_id) == {"inbox": "sent", "push": "skipped", "email": "sent"}  # no device: no push


def test_a_failing_record_is_the_only_one_retried(senders, state: Dependencies, walker: Caller) -> None:
    broken = insert_user(state.database_url, "walker")
    run_sql(database_url(), "UPDATE users SET email = 'nobody-at-all' WHERE id = %s", broken.id)  # SES refuses it
    good, bad, also_good = payout(walker.id), payout(broken.id), payout(walker.id, 500)
    relay.publish()

    (first,) = consume("notify_email")

    assert first.answer == {"batchItemFailures": [{"itemIdentifier": first.message_id_of(bad)}]}
    assert len(sent_emails()) == 2
    assert [statuses(good)["email"], statuses(also_good)["email"], statuses(bad)["email"]] == [
        "sent", "sent", "failed"
    ]  # fmt: skip

    run_sql(database_url(), "UPDATE users SET email = 'fixed@example.com' WHERE id = %s", broken.id)
    failed = [record for record in first.event["Records"] if record["messageId"] == first.message_id_of(bad)]
    visible_again("notifications-email", *failed)
    (again,) = consume("notify_email")

    assert [record["messageId"] for record in again.event["Records"]] == [first.message_id_of(bad)]
    assert again.answer == {"batchItemFailures": []}
    assert [m.destinations["ToAddresses"] for m in sent_emails()] == [
        [walker_email(walker.id)], [walker_email(walker.id)], ["fixed@example.com"]
    ]  # fmt: skip
    assert statuses(bad)["email"] == "sent"


def walker_email(user_id: str) -> str:
    from tests.integration.marketplace.conftest import rows

    return str(rows(database_url(), "SELECT email::text FROM users WHERE id = %s", user_id)[0]["email"])


def test_a_poison_message_lands_in_the_dead_letter_queue_after_the_redrive_count(
    senders, monkeypatch: pytest.MonkeyPatch
) -> None:
    from notifications import notify_inbox

    events: list[dict[str, Any]] = []

    def watched(event: dict[str, Any], context: Any) -> Any:  # the real consumer, its batches kept
        events.append(event)
        return notify_inbox.lambda_handler(event, context)

    monkeypatch.setitem(sys.modules, "notifications.notify_inbox", types.SimpleNamespace(lambda_handler=watched))
    inbox = consumer("notify_inbox")
    runner = QueueRunner(threading.Event(), (inbox,))
    runner.ensure_queues()
    aws.client("sqs").send_message(QueueUrl=queue_url(inbox.queue), MessageBody='{"id": "not an event"}')

    for _ in range(inbox.max_receive_count):
        assert runner.poll_once(inbox) == 1
        visible_again(inbox.queue, *events[-1]["Records"])
    assert runner.poll_once(inbox) == 0

    assert [record["attributes"]["ApproximateReceiveCount"] for event in events for record in event["Records"]] == [
        str(count) for count in range(1, inbox.max_receive_count + 1)
    ]
    assert drain(dead_letter_queue(inbox.queue)) == [{"id": "not an event"}]
