"""The local platform runs functions concurrently, as Lambda does (`local.workers`): one walker's
fifty accepts of fifty overlapping requests, sent over HTTP at the same moment, run in worker
processes of their own at once, and the database's exclusion constraint lets exactly one through;
the others are told 409 `booking_conflict`."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import psycopg
from psycopg.types.json import Jsonb

from tests.e2e.conftest import RunningPlatform, http

COPIES = 50
PRICE = {"base_cents": 4000, "extra_dog_cents": 0, "surge_cents": 0, "service_fee_cents": 400, "total_cents": 4400,
         "currency": "USD", "lines": []}  # fmt: skip


def overlapping_requests(platform: RunningPlatform, owner_id: str, walker_id: str, count: int) -> list[str]:
    """`count` requested walks of one walker, each overlapping the next (the request flow has its own tests)."""
    ids = [str(uuid.uuid4()) for _ in range(count)]
    with psycopg.connect(platform.database_url, autocommit=True) as conn, conn.transaction():
        conn.execute(
            "INSERT INTO walker_profiles (user_id, price_cents_per_30min, lat, lon, radius_km, max_dogs,"
            " accepted_sizes, timezone, verification) VALUES (%s, 2000, 40.756, -73.986, 5, 2, '{small}',"
            " 'America/New_York', 'verified')",
            (walker_id,),
        )
        for index, booking_id in enumerate(ids):
            conn.execute(
                "INSERT INTO bookings (id, owner_id, walker_id, start_ts, end_ts, status, pickup_lat, pickup_lon,"
                " price, payment_status) VALUES (%s, %s, %s, now() + interval '3 days' + %s * interval '1 minute',"
                " now() + interval '3 days' + interval '1 hour' + %s * interval '1 minute', 'requested', 40.756,"
                " -73.986, %s, 'authorized')",
                (booking_id, owner_id, walker_id, index, index, Jsonb(PRICE)),
            )
    return ids


def test_fifty_concurrent_accepts_of_overlapping_walks_accept_exactly_one(
    platform: RunningPlatform, seeded_token: Callable[[str], tuple[str, str]]
) -> None:
    owner_id, _ = seeded_token("owner")
    walker_id, walker_token = seeded_token("walker")
    bookings = overlapping_requests(platform, owner_id, walker_id, COPIES)
    together = threading.Barrier(COPIES)

    def accept(booking_id: str) -> tuple[int, str]:
        together.wait()
        answer = http("POST", f"{platform.base}/v1/bookings/{booking_id}/accept", {}, walker_token, timeout=120)
        return answer.status, answer.json().get("code") or answer.json().get("status")

    with ThreadPoolExecutor(max_workers=COPIES) as pool:
        answers = list(pool.map(accept, bookings))

    assert sorted(answers).count((200, "accepted")) == 1, answers
    assert sorted(answers)[1:] == [(409, "booking_conflict")] * (COPIES - 1)
    with psycopg.connect(platform.database_url) as conn:
        statuses = conn.execute(
            "SELECT status, count(*) FROM bookings WHERE walker_id = %s GROUP BY status ORDER BY status", (walker_id,)
        ).fetchall()
    assert statuses == [("accepted", 1), ("requested", COPIES - 1)]


def test_the_accepts_ran_in_workers_of_their_own(platform: RunningPlatform) -> None:
    """The accepts above really overlapped: the pool grew several workers of accept_booking (in
    the serial mode there are none, and the test before it would pass all the same)."""
    answer = platform.get("/_local/functions").json()

    assert answer["mode"] == "workers"
    assert answer["workers"].get("accept_booking", 0) > 1, answer
