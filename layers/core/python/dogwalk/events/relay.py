"""The outbox relay: unpublished domain events go to the one events topic (SNS) with the message
attributes the channel queues filter on (`event_type`, `recipient_role`), and are marked published
in the same database transaction that locked them.

Concurrent relays never publish a row twice: rows are taken `FOR UPDATE SKIP LOCKED`. A crash
between the publish and the commit leaves the rows unpublished, so they are published again:
consumers dedupe by the event id. SNS down: the rows stay unpublished and go out with the next
sweep (every minute) — no event is lost.
"""

from __future__ import annotations

import json
from typing import Any

from dogwalk.adapters import db
from dogwalk.adapters.observability import logger
from dogwalk.config import settings

SNS_BATCH = 10  # PublishBatch's limit


def message_of(row: dict[str, Any]) -> dict[str, Any]:
    """What a channel queue receives (raw message delivery): the event as the consumers read it."""
    return {
        "id": row["id"],
        "type": row["event_type"],
        "recipient_id": row["recipient_id"],
        "recipient_role": row["recipient_role"],
        "payload": row["payload"],
        "occurred_at": row["created_at"].isoformat(),
    }


def publish(ids: list[str] | None = None, *, limit: int = 500) -> int:
    """Publish unpublished events (these ids only, or the oldest `limit`); how many went out."""
    topic = settings().events_topic_arn
    if not topic or ids == []:
        return 0
    from dogwalk.adapters import aws

    with db.transaction() as conn:
        rows = conn.execute(
            "SELECT id::text, event_type, recipient_id::text, recipient_role, payload, created_at FROM outbox"
            " WHERE published_at IS NULL AND (%s::uuid[] IS NULL OR id = ANY(%s::uuid[]))"
            " ORDER BY created_at LIMIT %s FOR UPDATE SKIP LOCKED",
            (ids, ids, limit),
        ).fetchall()
        published: list[str] = []
        sns = aws.client("sns")
        for start in range(0, len(rows), SNS_BATCH):
            batch = rows[start : start + SNS_BATCH]
            answer = sns.publish_batch(
                TopicArn=topic,
                PublishBatchRequestEntries=[
                    {
                        "Id": str(index),
                        "Message": json.dumps(message_of(row), default=str),
                        "MessageAttributes": {
                            "event_type": {"DataType": "String", "StringValue": row["event_type"]},
                            "recipient_role": {"DataType": "String", "StringValue": row["recipient_role"] or "none"},
                        },
                    }
                    for index, row in enumerate(batch)
                ],
            )
            published += [batch[int(entry["Id"])]["id"] for entry in answer.get("Successful", [])]
            for failure in answer.get("Failed", []):
                logger.warning("event not published; the sweep retries", extra={"code": failure.get("Code")})
        if published:
            conn.execute("UPDATE outbox SET published_at = now() WHERE id = ANY(%s::uuid[])", (published,))
    return len(published)


def publish_recorded() -> None:
    """After a request's commit: publish what it recorded, best effort (the sweep is the guarantee)."""
    from dogwalk.events import outbox

    ids = outbox.forget()
    if not ids or not settings().events_topic_arn:
        return
    try:
        publish(ids)
    except Exception:  # never the request's failure: the sweep publishes them within a minute
        logger.warning("publishing after commit failed; the sweep will", exc_info=True)


def sweep(*, batches: int = 20) -> int:
    """The scheduled guarantee: publish everything pending, a batch at a time."""
    total = 0
    for _ in range(batches):
        done = publish()
        total += done
        if done == 0:
            break
    return total
