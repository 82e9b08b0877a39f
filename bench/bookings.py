"""Bookings: request + accept throughput through the handlers with the payment hold at localstripe,
and the accept transition's conflict check alone (no Stripe) under 8 concurrent clients.

Called by `bench/__main__.py` once the database is migrated and `DATABASE_URL`, `REDIS_URL` and
`DOGWALK_STRIPE_API_BASE` point at the benchmark's own PostgreSQL, Redis and localstripe.
Deterministic: every random choice comes from one seeded generator (the dates move with today).

1. Create + accept: owners (each with dogs and a saved `pm_card_visa`) and verified walkers
   (profile, availability 07:00-20:00 every day, verification approved by an admin) are set up
   through the handlers, as the integration tests' `make_walker` does; then each booking is
   `create_booking` (with an Idempotency-Key, as the apps send it: a manual-capture PaymentIntent
   at localstripe) followed by `accept_booking` by its walker, in-process, one after the other.
   Every booking is its walker's own non-overlapping slot, so every create is a 201 and every
   accept a 200.
2. Conflict check: bookings written in SQL as `requested` (no payment hold) are accepted with
   `lifecycle.move` by 8 threads (each with its own connection: `dogwalk.adapters.db` keeps one per thread).
   Half of them overlap an accepted booking of their walker, so PostgreSQL's exclusion constraint
   refuses them (`Conflict`, code booking_conflict); the other half overlap nothing and are accepted.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import random
import threading
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

SEED = 20_260_302

# create + accept
OWNERS = 10
WALKERS = 10  # 210 accepts over 10 walkers, 210 creates over 10 owners: far from 300 a minute each
DOGS_PER_OWNER = 2
BOOKINGS = 200
WARM_UP = 10  # bookings made first, not timed (the handlers' first calls build their models)
SLOT_HOURS = (8, 10, 12, 14, 16)  # a walk of at most 120 min from each: never overlapping, inside 07:00-20:00
DURATIONS = (30, 45, 60, 90, 120)
SIZES = ("small", "medium", "large", "giant")
TIMEZONE = "America/New_York"
ZONE = ZoneInfo(TIMEZONE)
TIMES_SQUARE = (40.7580, -73.9855)
PICKUP = {"lat": 40.7560, "lon": -73.9860, "address": "1540 Broadway"}  # 230 m from the walkers' centre

# conflict check
CLIENTS = 8
CONFLICT_WALKERS = 40
TRANSITIONS = 4_000  # timed; half overlap an accepted booking, half overlap nothing
CONFLICT_WARM_UP = 10  # per client, half of each, not timed
SLOTS_PER_WALKER = (TRANSITIONS + CLIENTS * CONFLICT_WARM_UP) // CONFLICT_WALKERS
SLOT_SPACING = timedelta(hours=3)

Answer = tuple[int, dict[str, Any]]


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def _id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _call(
    name: str,
    caller: str,
    role: str,
    body: dict[str, Any] | None = None,
    path_parameters: dict[str, str] | None = None,
    headers: tuple[tuple[str, str], ...] = (),
) -> Answer:
    """Invoke the handler of `name` in-process with a REST proxy event from `caller`; (status, body)."""
    from dogwalk.registry import endpoint
    from local.api_gateway import rest_event
    from local.runtime import LambdaContext

    route = endpoint(name)
    path = route.path.format(**path_parameters) if path_parameters else route.path
    sent = [("Content-Type", "application/json"), *headers] if body is not None else list(headers)
    raw = json.dumps(body).encode() if body is not None else b""
    event = rest_event(route.method, path, "", sent, raw, route, path_parameters or {}, "127.0.0.1", str(uuid.uuid4()))
    event["requestContext"]["authorizer"] = {"sub": caller, "role": role, "principalId": caller}
    answer = importlib.import_module(route.module).lambda_handler(event, LambdaContext(name))
    return int(answer["statusCode"]), json.loads(answer["body"]) if answer.get("body") else {}


def _expect(answer: Answer, status: int, what: str) -> dict[str, Any]:
    if answer[0] != status:
        raise RuntimeError(f"{what} answered {answer[0]} (expected {status}): {answer[1]}")
    return answer[1]


def _insert_users(conn: Any, role: str, label: str, user_ids: list[str]) -> None:
    with conn.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO users (id, email, role, name, password_hash) VALUES (%s, %s, %s, %s, 'x')",
            [
                (user_id, f"{label.lower().replace(' ', '-')}-{n}@bookings.bench.example", role, f"{label} {n}")
                for n, user_id in enumerate(user_ids)
            ],
        )


def _set_up_marketplace(rng: random.Random) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Owners (dogs and a card each, through the handlers) and bookable walkers (as `make_walker`:
    profile, every day 07:00-20:00, verification submitted and approved by an admin)."""
    import psycopg

    owners, walkers, admin = [_id(rng) for _ in range(OWNERS)], [_id(rng) for _ in range(WALKERS)], _id(rng)
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn, conn.transaction():
        _insert_users(conn, "owner", "Owner", owners)
        _insert_users(conn, "walker", "Walker", walkers)
        _insert_users(conn, "admin", "Admin", [admin])
    profile = {
        "bio": "Ten years of walking big dogs in Midtown.",
        "price_cents_per_30min": 2000,
        "service_area": {"lat": TIMES_SQUARE[0], "lon": TIMES_SQUARE[1], "radius_km": 5.0},
        "max_dogs": 3,
        "accepted_sizes": list(SIZES),
        "timezone": TIMEZONE,
    }
    every_day = {"weekly": [{"weekday": day, "start": "07:00", "end": "20:00"} for day in range(7)]}
    documents = {
        "documents": [
            {"kind": "id_document", "reference": "s3://uploads/id-123.jpg"},
            {"kind": "background_check", "reference": "checkr:report-456"},
        ]
    }
    for walker in walkers:
        price = {**profile, "price_cents_per_30min": rng.randrange(1500, 3001, 100)}
        _expect(_call("put_walker_profile", walker, "walker", price), 200, "put_walker_profile")
        _expect(_call("put_availability", walker, "walker", every_day), 200, "put_availability")
        _expect(_call("submit_verification", walker, "walker", documents), 202, "submit_verification")
        decided = _call("decide_verification", admin, "admin", {"decision": "approve"}, {"walker_id": walker})
        _expect(decided, 200, "decide_verification")
    equipped: dict[str, dict[str, Any]] = {}
    for owner in owners:
        dogs = []
        for number in range(DOGS_PER_OWNER):
            dog = {"name": f"Dog {number}", "size": rng.choice(SIZES), "vaccinated": True}
            dogs.append(_expect(_call("create_dog", owner, "owner", dog), 201, "create_dog")["id"])
        card = _call("create_payment_method", owner, "owner", {"gateway_token": "pm_card_visa"},
                     headers=(("Idempotency-Key", _id(rng)),))  # fmt: skip
        equipped[owner] = {"dogs": dogs, "card": _expect(card, 201, "create_payment_method")["id"]}
    return equipped, walkers


def _walks(rng: random.Random, owners: dict[str, dict[str, Any]], walkers: list[str], count: int) -> list[Any]:
    """`count` bookings, round robin over the walkers; each walker's n-th booking is in its own slot
    (5 a day from tomorrow, local time), by a random owner with 1 or 2 of their dogs."""
    tomorrow = datetime.now(ZONE).date() + timedelta(days=1)
    made = []
    for index in range(count):
        walker, slot = walkers[index % len(walkers)], index // len(walkers)
        day = tomorrow + timedelta(days=slot // len(SLOT_HOURS))
        start = datetime(day.year, day.month, day.day, SLOT_HOURS[slot % len(SLOT_HOURS)], tzinfo=ZONE)
        owner = rng.choice(sorted(owners))
        body = {
            "walker_id": walker,
            "dog_ids": rng.sample(owners[owner]["dogs"], rng.randint(1, DOGS_PER_OWNER)),
            "start": start.isoformat(),
            "duration_min": rng.choice(DURATIONS),
            "pickup": PICKUP,
            "payment_method_id": owners[owner]["card"],
        }
        made.append((owner, walker, body, _id(rng)))
    return made


def _book(owner: str, walker: str, body: dict[str, Any], key: str) -> tuple[float, float]:
    """Create the booking as its owner, then accept it as its walker; the two latencies in ms."""
    started = time.perf_counter()
    created = _call("create_booking", owner, "owner", body, headers=(("Idempotency-Key", key),))
    created_ms = (time.perf_counter() - started) * 1000
    booking = _expect(created, 201, "create_booking")
    if booking["status"] != "requested" or booking["payment"]["status"] != "authorized":
        raise RuntimeError(f"create_booking made a {booking['status']} booking, payment {booking['payment']}")
    started = time.perf_counter()
    accepted = _call("accept_booking", walker, "walker", path_parameters={"booking_id": booking["id"]})
    accepted_ms = (time.perf_counter() - started) * 1000
    if _expect(accepted, 200, "accept_booking")["status"] != "accepted":
        raise RuntimeError(f"accept_booking answered a {accepted[1]['status']} booking")
    return created_ms, accepted_ms


def create_and_accept(rng: random.Random) -> None:
    from moto import mock_aws

    from dogwalk.adapters import aws
    from dogwalk.config import settings
    from dogwalk.payments import gateway

    if not settings().stripe_api_base:
        raise RuntimeError("DOGWALK_STRIPE_API_BASE is not set: the benchmark talks to localstripe only")
    print(f"  Create + accept through the handlers ({WALKERS} walkers, {OWNERS} owners; localstripe at"
          f" {settings().stripe_api_base}):")  # fmt: skip
    aws.client.cache_clear()
    gateway._client.cache_clear()
    with mock_aws():
        credentials = json.dumps({"api_key": "sk_test_bench", "webhook_secret": "whsec_bench"})
        aws.client("secretsmanager").create_secret(Name=settings().payments_secret_id, SecretString=credentials)
        started = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):  # EMF metrics of first calls
            owners, walkers = _set_up_marketplace(rng)
            walks = _walks(rng, owners, walkers, WARM_UP + BOOKINGS)
            for walk in walks[:WARM_UP]:
                _book(*walk)
        print(f"    set up in {time.perf_counter() - started:.1f} s: {WALKERS} verified walkers (profile, every day"
              f" 07:00-20:00), {OWNERS} owners with {DOGS_PER_OWNER} dogs and a pm_card_visa card each,"
              f" {WARM_UP} warm-up bookings")  # fmt: skip
        creates, accepts = [], []
        loop_started = time.perf_counter()
        for walk in walks[WARM_UP:]:
            created_ms, accepted_ms = _book(*walk)
            creates.append(created_ms)
            accepts.append(accepted_ms)
        elapsed = time.perf_counter() - loop_started
    aws.client.cache_clear()
    gateway._client.cache_clear()
    print(f"    {BOOKINGS} bookings, sequential, one container (after {WARM_UP} warm-up): every create 201"
          " requested + authorized, every accept 200 accepted")  # fmt: skip
    print(f"    create_booking (Idempotency-Key, hold at localstripe) p50 {percentile(creates, 50):6.2f} ms"
          f"   p99 {percentile(creates, 99):6.2f} ms")  # fmt: skip
    print(f"    accept_booking (exclusion constraint)             p50 {percentile(accepts, 50):6.2f} ms"
          f"   p99 {percentile(accepts, 99):6.2f} ms")  # fmt: skip
    print(f"    create + accept: {BOOKINGS / elapsed:.1f} bookings/s ({elapsed:.1f} s for {BOOKINGS})")


Request = tuple[str, str, bool]  # booking id, walker id, whether it must conflict


def _seed_requests(rng: random.Random, first_day: date) -> tuple[list[list[Request]], list[list[Request]]]:
    """Walkers with an accepted booking in every other 3-hour slot, and requests: in each accepted
    slot one overlapping the accepted walk by 30 minutes (must conflict), in each other slot one
    alone (must be accepted). Written directly in SQL. Dealt in seeded random order: each client's
    warm-up (half of each kind), then each client's timed share of the rest (half of each overall)."""
    import psycopg

    owner, walkers = _id(rng), [_id(rng) for _ in range(CONFLICT_WALKERS)]
    base = datetime(first_day.year, first_day.month, first_day.day, tzinfo=UTC)
    rows: list[tuple[Any, ...]] = []
    kinds: dict[bool, list[Request]] = {True: [], False: []}
    for walker in walkers:
        for slot in range(SLOTS_PER_WALKER):
            start = base + slot * SLOT_SPACING
            must_conflict = slot % 2 == 0
            if must_conflict:
                rows.append((_id(rng), owner, walker, start, start + timedelta(minutes=60), "accepted"))
                start += timedelta(minutes=30)
            booking = _id(rng)
            rows.append((booking, owner, walker, start, start + timedelta(minutes=60), "requested"))
            kinds[must_conflict].append((booking, walker, must_conflict))
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn, conn.transaction():
        _insert_users(conn, "owner", "Conflict owner", [owner])
        _insert_users(conn, "walker", "Conflict walker", walkers)
        with conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO walker_profiles (user_id, price_cents_per_30min, lat, lon, radius_km, max_dogs,"
                " accepted_sizes, timezone, verification) VALUES (%s, 2000, %s, %s, 5, 3, %s, %s, 'verified')",
                [(walker, *TIMES_SQUARE, list(SIZES), TIMEZONE) for walker in walkers],
            )
            with cursor.copy("COPY bookings (id, owner_id, walker_id, start_ts, end_ts, status) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
    half = CONFLICT_WARM_UP // 2
    for kind in kinds.values():
        rng.shuffle(kind)
    warm_ups = []
    for client in range(CLIENTS):
        share = [*kinds[True][client * half : (client + 1) * half], *kinds[False][client * half : (client + 1) * half]]
        rng.shuffle(share)
        warm_ups.append(share)
    rest = kinds[True][CLIENTS * half :] + kinds[False][CLIENTS * half :]
    rng.shuffle(rest)
    return warm_ups, [rest[client::CLIENTS] for client in range(CLIENTS)]


def _client(
    warm_up: list[Request], requests: list[Request], ready: threading.Barrier, results: list[Any], slot: int
) -> None:
    """One client: accept each request with `lifecycle.move` on this thread's own connection; per
    timed request (ms, conflicted, must conflict)."""
    from dogwalk.adapters import db
    from dogwalk.bookings import lifecycle
    from dogwalk.errors import Conflict

    def accept(booking: str, walker: str) -> bool:
        try:
            lifecycle.move(booking, "accepted", actor_id=walker)
        except Conflict as exc:
            if exc.code != "booking_conflict":
                raise
            return True
        return False

    timed: list[tuple[float, bool, bool]] = []
    try:
        db.connection()
        for booking, walker, must_conflict in warm_up:
            if accept(booking, walker) != must_conflict:
                raise RuntimeError(f"warm-up booking {booking}: conflict {not must_conflict}, expected {must_conflict}")
        ready.wait()
        for booking, walker, must_conflict in requests:
            started = time.perf_counter()
            conflicted = accept(booking, walker)
            timed.append(((time.perf_counter() - started) * 1000, conflicted, must_conflict))
        results[slot] = timed
    except BaseException as exc:
        ready.abort()
        results[slot] = exc
    finally:
        db.reset()


def conflict_check(rng: random.Random) -> None:
    import psycopg

    warm_ups, dealt = _seed_requests(rng, datetime.now(UTC).date() + timedelta(days=30))
    ids = [booking for share in warm_ups + dealt for booking, _, _ in share]
    total = len(ids)
    print(f"  Conflict check alone (lifecycle.move to accepted, no Stripe), {CLIENTS} concurrent clients, {total:,}"
          f" requests of {CONFLICT_WALKERS} walkers written in SQL, half overlapping an accepted walk:")  # fmt: skip
    ready = threading.Barrier(CLIENTS + 1)
    results: list[Any] = [None] * CLIENTS
    threads = [
        threading.Thread(target=_client, args=(warm_ups[n], dealt[n], ready, results, n), name=f"client-{n}")
        for n in range(CLIENTS)
    ]
    for thread in threads:
        thread.start()
    with contextlib.suppress(threading.BrokenBarrierError):  # a client failed: it says why below
        ready.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    for outcome in results:
        if isinstance(outcome, BaseException):
            raise RuntimeError("a conflict-check client failed") from outcome
    timed = [sample for outcome in results for sample in outcome]
    wrong = [sample for sample in timed if sample[1] != sample[2]]
    if wrong:
        raise RuntimeError(f"{len(wrong)} transitions had the wrong outcome")
    conflicts = [ms for ms, conflicted, _ in timed if conflicted]
    accepted = [ms for ms, conflicted, _ in timed if not conflicted]
    expected_conflicts = TRANSITIONS // 2
    if (len(accepted), len(conflicts)) != (TRANSITIONS - expected_conflicts, expected_conflicts):
        raise RuntimeError(f"{len(accepted)} accepted and {len(conflicts)} conflicts; expected half of {TRANSITIONS}")
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        found = conn.execute(
            "SELECT count(*) FILTER (WHERE status = 'accepted'), count(*) FILTER (WHERE status = 'requested'),"
            " (SELECT count(*) FROM booking_transitions WHERE booking_id = ANY(%(ids)s::uuid[]))"
            " FROM bookings WHERE id = ANY(%(ids)s::uuid[])",
            {"ids": ids},
        ).fetchone()
    in_database = tuple(found) if found else ()
    if in_database != (total // 2, total - total // 2, total // 2):
        raise RuntimeError(f"after the run (accepted, requested, audited): {in_database}; expected half accepted")
    samples = [ms for ms, _, _ in timed]
    print(f"    {len(timed):,} timed transitions (after {CONFLICT_WARM_UP} warm-up per client) in {elapsed:.2f} s:"
          f" {len(timed) / elapsed:,.0f} transitions/s")  # fmt: skip
    print(f"    all            p50 {percentile(samples, 50):6.2f} ms   p99 {percentile(samples, 99):6.2f} ms")
    print(f"    accepted       p50 {percentile(accepted, 50):6.2f} ms   p99 {percentile(accepted, 99):6.2f} ms")
    print(f"    conflict (409) p50 {percentile(conflicts, 50):6.2f} ms   p99 {percentile(conflicts, 99):6.2f} ms")
    in_db_accepted, in_db_requested, audited = in_database
    print(f"    {len(accepted):,} accepted, {len(conflicts):,} booking_conflict (expected"
          f" {TRANSITIONS - expected_conflicts:,} / {expected_conflicts:,}); in the database, warm-up included:"
          f" {in_db_accepted:,} accepted, {in_db_requested:,} requested, {audited:,} transitions audited")  # fmt: skip


def run_bookings_benchmark() -> None:
    rng = random.Random(SEED)
    section_started = time.perf_counter()
    print("Bookings:")
    create_and_accept(rng)
    conflict_check(rng)
    print(f"  bookings section took {time.perf_counter() - section_started:.0f} s")
