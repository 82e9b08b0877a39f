"""The booking state machine on real PostgreSQL: legal and illegal transitions, one audit row and
one domain event per transition, and no double booking under concurrency — the exclusion
constraint, not the code, decides."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from psycopg.rows import dict_row

from dogwalk.adapters import db
from dogwalk.bookings import lifecycle
from dogwalk.config import settings
from dogwalk.errors import Conflict, InvalidState
from tests.conftest import Dependencies, SeededUser, _forget_configuration, insert_user

START = datetime(2027, 3, 3, 15, 0, tzinfo=UTC)


@pytest.fixture
def people(state: Dependencies) -> tuple[SeededUser, SeededUser]:
    owner, walker = insert_user(state.database_url, "owner"), insert_user(state.database_url, "walker")
    with psycopg.connect(state.database_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO walker_profiles (user_id, price_cents_per_30min, lat, lon, radius_km, max_dogs,"
            " accepted_sizes, timezone, verification)"
            " VALUES (%s, 2000, 40.7, -74.0, 5, 3, '{small}', 'America/New_York', 'verified')",
            (walker.id,),
        )
    return owner, walker


def request(state: Dependencies, owner: SeededUser, walker: SeededUser, start: datetime = START) -> str:
    booking_id = str(uuid.uuid4())
    with psycopg.connect(state.database_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO bookings (id, owner_id, walker_id, start_ts, end_ts, status)"
            " VALUES (%s, %s, %s, %s, %s, 'requested')",
            (booking_id, owner.id, walker.id, start, start + timedelta(minutes=60)),
        )
    return booking_id


def rows(state: Dependencies, sql: str, *params: object) -> list[dict]:
    with psycopg.connect(state.database_url, row_factory=dict_row) as conn:
        return conn.execute(sql, params).fetchall()


@pytest.mark.parametrize(
    "path",
    [
        ["accepted", "in_progress", "completed"],
        ["declined"],
        ["expired"],
        ["cancelled"],
        ["accepted", "cancelled"],
    ],
)
def test_the_legal_paths_each_leave_an_audit_row_and_an_event_per_step(state, people, path: list[str]) -> None:
    owner, walker = people
    booking = request(state, owner, walker)

    for to in path:
        actor = None if to == "expired" else (owner.id if to == "cancelled" else walker.id)
        assert lifecycle.move(booking, to, actor_id=actor)["status"] == to

    audit = rows(
        state, "SELECT from_status, to_status FROM booking_transitions WHERE booking_id = %s ORDER BY id", booking
    )
    assert [row["to_status"] for row in audit] == path
    assert [row["from_status"] for row in audit] == ["requested", *path[:-1]]
    events = rows(state, "SELECT event_type, recipient_id::text AS recipient FROM outbox ORDER BY created_at")
    assert len(events) == len(path)


@pytest.mark.parametrize(
    ("path", "illegal"),
    [([], "completed"), ([], "in_progress"), (["declined"], "accepted"), (["accepted"], "declined"),
     (["accepted", "in_progress"], "cancelled"), (["cancelled"], "accepted")],
)  # fmt: skip
def test_any_other_transition_is_invalid_state_and_changes_nothing(state, people, path, illegal) -> None:
    owner, walker = people
    booking = request(state, owner, walker)
    for to in path:
        lifecycle.move(booking, to, actor_id=walker.id)

    with pytest.raises(InvalidState):
        lifecycle.move(booking, illegal, actor_id=walker.id)

    assert len(rows(state, "SELECT 1 FROM booking_transitions WHERE booking_id = %s", booking)) == len(path)


def test_a_cancellation_is_told_to_the_other_party(state, people) -> None:
    owner, walker = people
    by_owner, by_walker = request(state, owner, walker), request(state, owner, walker, START + timedelta(days=1))

    lifecycle.move(by_owner, "cancelled", actor_id=owner.id)
    lifecycle.move(by_walker, "accepted", actor_id=walker.id)
    lifecycle.move(by_walker, "cancelled", actor_id=walker.id)

    told = rows(state, "SELECT recipient_id::text AS who, payload->>'booking_id' AS booking FROM outbox"
                       " WHERE event_type = 'booking.cancelled'")  # fmt: skip
    assert {(row["booking"], row["who"]) for row in told} == {(by_owner, walker.id), (by_walker, owner.id)}


def test_fifty_concurrent_accepts_of_overlapping_requests_accept_exactly_one(state, people) -> None:
    owner, walker = people
    requests = [request(state, owner, walker, START + timedelta(minutes=minute)) for minute in range(0, 50)]
    barrier = threading.Barrier(len(requests))
    outcomes: list[str] = []

    def accept(booking: str) -> None:
        barrier.wait()
        try:
            lifecycle.move(booking, "accepted", actor_id=walker.id)
            outcomes.append("accepted")
        except Conflict as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=accept, args=(booking,)) for booking in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes.count("accepted") == 1
    assert outcomes.count("booking_conflict") == 49
    accepted = rows(state, "SELECT count(*) AS n FROM bookings WHERE status = 'accepted'")
    assert accepted == [{"n": 1}]


def test_an_accept_waits_for_another_of_its_walker_longer_than_a_query_may_run(state, people, monkeypatch) -> None:
    """Accepts of one walker take turns at a lock: the second is told 409 once the first commits,
    however long that takes within three query timeouts, instead of failing 503 at the first
    (waiting on the other's uncommitted row, as it did, is bounded by the query timeout)."""
    owner, walker = people
    first, second = request(state, owner, walker), request(state, owner, walker, START + timedelta(minutes=30))
    monkeypatch.setenv("DOGWALK_DEPENDENCY_TIMEOUT_S", "1")  # statement_timeout 1 s
    _forget_configuration()
    accepting = threading.Event()

    def accept_slowly() -> None:
        with db.transaction() as conn:
            lifecycle.transition(conn, first, "accepted", actor_id=walker.id)
            accepting.set()
            time.sleep(1.5)  # its transaction outlasts what one query may take

    slow = threading.Thread(target=accept_slowly)
    slow.start()
    accepting.wait(5)
    try:
        with pytest.raises(Conflict) as refused:
            lifecycle.move(second, "accepted", actor_id=walker.id)
    finally:
        slow.join()

    assert refused.value.code == "booking_conflict"
    statuses = rows(state, "SELECT id::text, status FROM bookings")
    assert {row["id"]: row["status"] for row in statuses} == {first: "accepted", second: "requested"}


def test_the_statements_after_the_schedule_lock_have_the_query_timeout_again(state, people) -> None:
    with db.transaction() as conn:
        lifecycle.lock_schedule(conn, people[1].id)
        timeout = conn.execute("SELECT current_setting('statement_timeout') AS t").fetchone()["t"]
    assert timeout == f"{round(settings().dependency_timeout_s)}s"


def test_the_database_refuses_overlapping_accepted_bookings_written_directly(state, people) -> None:
    owner, walker = people
    first, second = request(state, owner, walker), request(state, owner, walker, START + timedelta(minutes=30))
    with psycopg.connect(state.database_url, autocommit=True) as conn:
        conn.execute("UPDATE bookings SET status = 'accepted' WHERE id = %s", (first,))
        with pytest.raises(psycopg.errors.ExclusionViolation):
            conn.execute("UPDATE bookings SET status = 'accepted' WHERE id = %s", (second,))


def test_back_to_back_walks_are_not_an_overlap(state, people) -> None:
    owner, walker = people
    first, second = request(state, owner, walker), request(state, owner, walker, START + timedelta(minutes=60))

    lifecycle.move(first, "accepted", actor_id=walker.id)
    lifecycle.move(second, "accepted", actor_id=walker.id)
