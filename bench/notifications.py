"""Notifications: the outbox relay's throughput with 10,000 pending events, and the end-to-end
latency from a committed state change to its inbox row, on the real PostgreSQL with SNS and SQS
on moto (in-process), the local event source mapping (`local.queues.QueueRunner.poll_once`)
feeding the real consumer.

The throughput is measured against a topic without subscribers: moto's in-process fan-out to
four queues slows down with every message the queues hold (about quadratically: 10,000 events
took over ten minutes), which measures moto, not the relay; in the cloud SNS fans out.

Called by `bench/__main__.py` once the database is migrated and `DATABASE_URL`/`REDIS_URL` point at
the benchmark's own servers.
"""

from __future__ import annotations

import os
import statistics
import threading
import time
import uuid
from typing import Any

PENDING = 10_000
LATENCY_EVENTS = 50


def _user(conn: Any) -> str:
    user_id = str(uuid.uuid4())
    conn.execute(
        "INSERT INTO users (id, email, role, name, password_hash) VALUES (%s, %s, 'walker', 'Bench', 'x')",
        (user_id, f"{user_id}@notifications.bench.example"),
    )
    return user_id


def run_notifications_benchmark() -> None:
    from moto import mock_aws

    from dogwalk.adapters import aws, db
    from dogwalk.config import settings
    from dogwalk.events import outbox, relay
    from local.queues import QueueRunner, ensure_events_topic

    print("Notifications (real PostgreSQL; SNS and SQS on moto, in-process):")
    with mock_aws():
        aws.client.cache_clear()
        runner = QueueRunner(stop=threading.Event())
        runner.ensure_queues()
        events_topic = ensure_events_topic()
        os.environ["DOGWALK_EVENTS_TOPIC_ARN"] = aws.client("sns").create_topic(Name="bench-relay")["TopicArn"]
        settings.cache_clear()
        try:
            with db.transaction() as conn:
                user = _user(conn)
                for n in range(PENDING):
                    outbox.record(conn, "payout.sent", user, "walker", {"n": n, "amount_cents": 100})
            outbox.forget()
            began = time.perf_counter()
            published = 0
            while done := relay.publish(limit=500):
                published += done
            elapsed = time.perf_counter() - began
            print(f"  relay: {published:,} pending events published in {elapsed:.1f} s = {published / elapsed:,.0f}"
                  f" events/s (500 rows a transaction, 10 a PublishBatch, SKIP LOCKED)")  # fmt: skip
            os.environ["DOGWALK_EVENTS_TOPIC_ARN"] = events_topic  # now with the channel queues subscribed
            settings.cache_clear()
            inbox = next(c for c in runner.consumers if c.name == "notify_inbox")
            latencies = []
            for n in range(LATENCY_EVENTS):
                began = time.perf_counter()
                with db.transaction() as conn:
                    event_id = outbox.record(conn, "payout.sent", user, "walker", {"n": n, "amount_cents": 100})
                relay.publish(outbox.forget())  # right after the commit, as an endpoint does
                while True:
                    runner.poll_once(inbox)
                    with db.transaction() as conn:
                        if conn.execute("SELECT 1 FROM notifications WHERE event_id = %s", (event_id,)).fetchone():
                            break
                latencies.append((time.perf_counter() - began) * 1000)
            latencies.sort()
            print(f"  commit → inbox row ({LATENCY_EVENTS} events, one at a time): p50"
                  f" {statistics.median(latencies):.1f} ms, p99 {latencies[int(0.99 * (len(latencies) - 1))]:.1f} ms"
                  " (without the event source mapping's batching window)")  # fmt: skip
        finally:
            os.environ.pop("DOGWALK_EVENTS_TOPIC_ARN", None)
            settings.cache_clear()
            aws.client.cache_clear()
