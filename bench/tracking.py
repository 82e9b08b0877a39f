"""GPS ingest throughput: SQS-shaped batches of 100 messages x 10 points (OwnTracks `batch`
messages, as phones send after a few seconds offline) through the `ingest_walk_messages` handler
into the real PostgreSQL, against raw COPY of rows of the same shape into the same partitioned
table as the physical limit: the goal's reference (text COPY of as many rows as a batch has, a
transaction each) runs after each batch, so that both see the machine at the same moment.

Called by `bench/__main__.py` once the database is migrated and `DATABASE_URL`/`REDIS_URL` point at
the benchmark's own servers. The walks are written in SQL (in progress, started six hours ago),
each batch mixes 10 walks (as one queue mixes phones), and each walk's points move on in time, the
common case. Deterministic: one seeded generator.
"""

from __future__ import annotations

import json
import os
import random
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

SEED = 20_260_303
WALKS = 40
WALKS_PER_BATCH = 10
MESSAGES = 100  # per SQS batch, the event source mapping's batch size
POINTS = 10  # per message
BATCHES = 60
WARM_UP = 3
COPY_ROWS = 60_000
QUEUE_ARN = "arn:aws:sqs:us-east-1:000000000000:walk-messages"


def _walks(conn: Any, count: int, started: datetime) -> list[str]:
    owner, walker = str(uuid.uuid4()), str(uuid.uuid4())
    for user, role in ((owner, "owner"), (walker, "walker")):
        conn.execute(
            "INSERT INTO users (id, email, role, name, password_hash) VALUES (%s, %s, %s, 'Bench', 'x')",
            (user, f"{user}@tracking.bench.example", role),
        )
    conn.execute(
        "INSERT INTO walker_profiles (user_id, price_cents_per_30min, lat, lon, radius_km, max_dogs, accepted_sizes,"
        " timezone, verification) VALUES (%s, 2000, 40.758, -73.9855, 5, 3, '{small}', 'America/New_York', 'verified')",
        (walker,),
    )
    walk_ids = []
    for index in range(count):
        booking, walk = str(uuid.uuid4()), str(uuid.uuid4())
        # back to back, so the walker's in-progress walks do not overlap (the exclusion constraint)
        start = started - timedelta(days=index + 1)
        conn.execute(
            "INSERT INTO bookings (id, owner_id, walker_id, start_ts, end_ts, status)"
            " VALUES (%s, %s, %s, %s, %s, 'in_progress')",
            (booking, owner, walker, start, start + timedelta(hours=1)),
        )
        conn.execute("INSERT INTO walks (id, booking_id, started_at) VALUES (%s, %s, %s)", (walk, booking, started))
        walk_ids.append(walk)
    return walk_ids


class Phones:
    """Each walk's phone moves on a random walk at walking pace, one point a second."""

    def __init__(self, rng: random.Random, walk_ids: list[str], started: datetime):
        self.rng = rng
        self.position = {walk: (40.7560 + rng.uniform(-0.02, 0.02), -73.9860 + rng.uniform(-0.02, 0.02))
                         for walk in walk_ids}  # fmt: skip
        self.clock = dict.fromkeys(walk_ids, int(started.timestamp()) + 1)

    def batch_message(self, walk_id: str) -> dict[str, Any]:
        points = []
        lat, lon = self.position[walk_id]
        for _ in range(POINTS):
            lat += self.rng.uniform(-0.000012, 0.000012)  # ≤ 1.3 m a second each way
            lon += self.rng.uniform(-0.000016, 0.000016)
            self.clock[walk_id] += 1
            points.append({"_type": "location", "lat": lat, "lon": lon, "tst": self.clock[walk_id],
                           "acc": self.rng.randint(3, 20), "vel": 5, "batt": 80, "tid": "bx"})  # fmt: skip
        self.position[walk_id] = (lat, lon)
        return {"_type": "batch", "points": points, "topic": f"dogwalk/walks/{walk_id}/location"}


def _sqs_event(messages: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "Records": [
            {"messageId": str(uuid.uuid4()), "receiptHandle": "bench", "body": json.dumps(message), "attributes": {},
             "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs", "eventSourceARN": QUEUE_ARN,
             "awsRegion": "us-east-1"}
            for message in messages
        ]
    }  # fmt: skip


def ingest_throughput(rng: random.Random) -> tuple[float, float]:
    """The handler's points a second, and raw text COPY's rows a second measured between its
    batches (one COPY of as many rows, in a transaction of its own, after each batch): both see
    the same machine at the same moment, as the cold starts' reference does."""
    import psycopg
    from tracking import ingest_walk_messages

    from local.runtime import LambdaContext

    started = datetime.now(UTC) - timedelta(hours=6)
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn, conn.transaction():
        walk_ids = _walks(conn, WALKS, started)
    phones = Phones(rng, walk_ids, started)
    events = []
    for _ in range(WARM_UP + BATCHES):
        walks = rng.sample(walk_ids, WALKS_PER_BATCH)
        events.append(_sqs_event([phones.batch_message(walks[i % WALKS_PER_BATCH]) for i in range(MESSAGES)]))
    context = LambdaContext("ingest_walk_messages")
    timings, references = [], []
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as reference:
        for index, event in enumerate(events):
            began = time.perf_counter()
            answer = ingest_walk_messages.lambda_handler(event, context)
            ended = time.perf_counter()
            copied = _copy_rows(reference, _rows(rng, MESSAGES * POINTS), binary=False)
            if index >= WARM_UP:
                timings.append(ended - began)
                references.append(copied)
            if answer != {"batchItemFailures": []}:
                raise RuntimeError(f"the ingest failed messages during the benchmark: {answer}")
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        stored = conn.execute("SELECT sum(points) FROM walks WHERE id = ANY(%s)", (walk_ids,)).fetchone()
    expected = (WARM_UP + BATCHES) * MESSAGES * POINTS
    if stored is None or stored[0] != expected:
        raise RuntimeError(f"{stored} points kept of {expected} sent")
    rate, copy_rate = BATCHES * MESSAGES * POINTS / sum(timings), BATCHES * MESSAGES * POINTS / sum(references)
    ordered = sorted(timings)
    print(f"  ingest_walk_messages, {BATCHES} SQS batches of {MESSAGES} messages x {POINTS} points "
          f"({WALKS_PER_BATCH} walks a batch; after {WARM_UP} warm-up): {rate:,.0f} points/s, a batch p50 "
          f"{ordered[len(ordered) // 2] * 1000:.1f} ms, p99 {ordered[int(0.99 * (len(ordered) - 1))] * 1000:.1f} ms,"
          f" every point kept ({expected:,})")  # fmt: skip
    print(f"  raw text COPY of {MESSAGES * POINTS:,} rows a transaction, after each of those batches: "
          f"{copy_rate:,.0f} rows/s")  # fmt: skip
    return rate, copy_rate


def _rows(rng: random.Random, count: int) -> list[tuple[Any, ...]]:
    walk = uuid.uuid4()  # points need no walk row: the table has no foreign key
    moment = datetime.now(UTC) - timedelta(hours=5)
    return [(walk, moment + timedelta(seconds=i), 40.75 + rng.random() / 100, -73.98 + rng.random() / 100, 8.0, 5.0,
             80) for i in range(count)]  # fmt: skip


def _copy_rows(conn: Any, rows: list[tuple[Any, ...]], *, binary: bool) -> float:
    """COPY `rows` into walk_points in one transaction; the seconds it took."""
    statement = "COPY walk_points (walk_id, ts, lat, lon, accuracy, speed, battery) FROM STDIN"
    if binary:
        statement += " (FORMAT BINARY)"
    began = time.perf_counter()
    with conn.transaction(), conn.cursor() as cursor, cursor.copy(statement) as copy:
        if binary:
            copy.set_types(["uuid", "timestamptz", "float8", "float8", "float4", "float4", "int2"])
        for row in rows:
            copy.write_row(row)
    return time.perf_counter() - began


def copy_throughput(rng: random.Random, rows_per_copy: int, binary: bool) -> float:
    """Raw COPY of point rows into walk_points, one transaction per COPY of `rows_per_copy` rows."""
    import psycopg

    rows = _rows(rng, COPY_ROWS)
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        spent = sum(_copy_rows(conn, rows[offset : offset + rows_per_copy], binary=binary)
                    for offset in range(0, COPY_ROWS, rows_per_copy))  # fmt: skip
    return COPY_ROWS / spent


def run_tracking_benchmark() -> None:
    rng = random.Random(SEED)
    print("Tracking ingest (real PostgreSQL, walk_points partitioned by month):")
    copies: dict[tuple[int, bool], float] = {}
    for size in (100, MESSAGES * POINTS, 10_000):
        for binary in (False, True):
            copies[size, binary] = rate = copy_throughput(rng, size, binary)
            kind = "binary" if binary else "text"
            print(f"  raw COPY ({kind:>6}), {size:>6,} rows a transaction: {rate:>9,.0f} rows/s")
    rate, copy_rate = ingest_throughput(rng)
    by_100 = f"{rate / copies[100, False]:.0%} / {rate / copies[100, True]:.0%}"
    print(f"  the ingest sustains {rate / copy_rate:.0%} of raw text COPY at its batch size, measured between its"
          f" batches (goal: 60 %); {by_100} of the text / binary COPY of 100 rows above")  # fmt: skip
