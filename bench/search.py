"""Search at metro scale: 50,000 walkers around New York seeded by COPY, 1,000 random searches
through the `search_walkers` handler (in-process, real PostgreSQL and Redis), and the plan of the
one SQL query `walkers._search_rows` runs.

Called by `bench/__main__.py` once the database is migrated and `DATABASE_URL`/`REDIS_URL` point at
the benchmark's own servers. Deterministic: every random choice comes from one seeded generator
(the dates move with today, the rows do not).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import re
import statistics
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Any
from unittest import mock
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

SEED = 20_260_301
WALKERS = 50_000
BOOKINGS = 200_000
BOOKING_OWNERS = 300
SEARCH_OWNERS = 10  # 1,000 searches stay well under the per-user limit of 300 a minute
SEARCHES = 1_000
WARM_UP = 20
SEARCH_BUDGET_S = 75.0  # the section stays near 2 minutes even while the query is slow: stop early, say so
LIMIT = 20
TARGET_P95_MS = 25.0
SLOWEST_PROFILED = 5

TIMEZONE = "America/New_York"
ZONE = ZoneInfo(TIMEZONE)
LAT_RANGE = (40.55, 40.90)
LON_RANGE = (-74.10, -73.75)
CENTRE = (40.74, -73.98)  # Midtown/Chelsea: the dense core
SIZES = ("small", "medium", "large", "giant")
DOG_SIZE_WEIGHTS = (30, 35, 28, 7)
DURATIONS = (30, 45, 60, 90, 120)
BOOKING_STATUSES = (("accepted", 50), ("requested", 33), ("completed", 7), ("cancelled", 8), ("declined", 2))
SORT_WEIGHTS = (("distance", 70), ("price", 15), ("rating", 15))
SEARCH_QUERY_MARK = "AS sort_key"
INDEXES = (
    "walker_profiles_verified_location",
    "walker_profiles_verified_price",
    "walker_profiles_verified_rating",
    "bookings_active_by_walker",
)

Window = tuple[int, int, int]  # weekday (Monday = 0), start minute, end minute


def _id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _point(rng: random.Random) -> tuple[float, float]:
    """A point in the metro box: six in ten around the centre, the rest anywhere."""
    while True:
        if rng.random() < 0.6:
            lat, lon = rng.gauss(CENTRE[0], 0.04), rng.gauss(CENTRE[1], 0.04)
        else:
            lat, lon = rng.uniform(*LAT_RANGE), rng.uniform(*LON_RANGE)
        if LAT_RANGE[0] <= lat <= LAT_RANGE[1] and LON_RANGE[0] <= lon <= LON_RANGE[1]:
            return round(lat, 6), round(lon, 6)


def _pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([value for value, _ in weighted], [weight for _, weight in weighted])[0]


def _weekly(rng: random.Random) -> list[Window]:
    """3 to 6 weekdays, each with the walker's usual one or two windows (morning, evening, or a day)."""
    days = sorted(rng.sample(range(7), rng.randint(3, 6)))
    morning = (rng.choice((360, 390, 420, 450, 480)), 0)
    morning = (morning[0], min(morning[0] + rng.choice((180, 210, 240, 270, 300)), 780))
    evening = (rng.choice((900, 930, 960, 990, 1020)), 0)
    evening = (evening[0], evening[0] + rng.choice((180, 210, 240)))
    shape = rng.random()
    if shape < 0.45:
        spans = [morning, evening]
    elif shape < 0.70:
        spans = [morning]
    elif shape < 0.85:
        spans = [evening]
    else:
        spans = [(rng.choice((480, 540)), rng.choice((1020, 1080)))]
    return [(day, start, end) for day in days for start, end in spans]


def _local(day: date, minute: int) -> datetime:
    return datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=ZONE)


def _profile_row(rng: random.Random, walker: str) -> tuple[Any, ...]:
    lat, lon = _point(rng)
    radius = round(min(25.0, 2.0 + rng.expovariate(1 / 4.0)), 1)  # 2-25 km, most under 8
    sizes = [size for size in SIZES if rng.random() < 0.7] or [rng.choice(SIZES)]
    state = "verified" if rng.random() < 0.9 else rng.choice(("unverified", "pending", "rejected"))
    ratings = rng.randint(0, 120) if rng.random() < 0.8 else 0
    stars = round(ratings * rng.uniform(3.6, 5.0))
    price, max_dogs, walks = rng.randint(1200, 4000), rng.randint(1, 6), ratings + rng.randint(0, 40)
    return (walker, "Happy to walk your dog.", price, lat, lon, radius, max_dogs, sizes, TIMEZONE, state, stars,
            ratings, walks)  # fmt: skip


def _booking_row(rng: random.Random, walker: str, weekly: list[Window], owner: str, first_day: date) -> tuple[Any, ...]:
    """A booking in one of the walker's own windows, on the quarter hour, in the 8 weeks from `first_day`."""
    weekday, start, end = rng.choice(weekly)
    duration = rng.choice(DURATIONS)
    day = first_day + timedelta(days=(weekday - first_day.weekday()) % 7 + 7 * rng.randrange(8))
    begins = _local(day, start + 15 * rng.randrange((end - start - duration) // 15 + 1))
    return (_id(rng), owner, walker, begins, begins + timedelta(minutes=duration), _pick(rng, BOOKING_STATUSES))


def seed(conn: Any, rng: random.Random, today: date) -> dict[str, Any]:
    """Owners, walkers (user, profile, weekly windows, time off), the searching owners' dogs and
    the bookings, each table by one COPY in one transaction; then VACUUM (ANALYZE)."""
    owners = [_id(rng) for _ in range(BOOKING_OWNERS)]
    walkers = [(_id(rng), _weekly(rng)) for _ in range(WALKERS)]
    dogs: dict[str, list[tuple[str, str]]] = {}
    counts = {"walkers": WALKERS, "windows": 0, "time_off": 0, "bookings": BOOKINGS, "overlaps_requested": 0}
    started = time.perf_counter()
    with conn.transaction(), conn.cursor() as cursor:
        with cursor.copy("COPY users (id, email, role, name, password_hash, suspended_at) FROM STDIN") as copy:
            for index, owner in enumerate(owners):
                copy.write_row((owner, f"owner-{index}@search.bench.example", "owner", f"Owner {index}", "x", None))
            for index, (walker, _) in enumerate(walkers):
                suspended = "2026-01-01T00:00:00Z" if rng.random() < 0.005 else None
                copy.write_row((walker, f"walker-{index}@search.bench.example", "walker", f"Walker {index}", "x",
                                suspended))  # fmt: skip
        with cursor.copy(
            "COPY walker_profiles (user_id, bio, price_cents_per_30min, lat, lon, radius_km, max_dogs,"
            " accepted_sizes, timezone, verification, rating_sum, rating_count, completed_walks) FROM STDIN"
        ) as copy:
            for walker, _ in walkers:
                copy.write_row(_profile_row(rng, walker))
        with cursor.copy("COPY availability_windows (walker_id, weekday, minutes) FROM STDIN") as copy:
            for walker, weekly in walkers:
                for weekday, start, end in weekly:
                    copy.write_row((walker, weekday, f"[{start},{end})"))
                    counts["windows"] += 1
        with cursor.copy("COPY time_off (id, walker_id, period) FROM STDIN") as copy:
            for walker, _ in walkers:
                if rng.random() < 0.05:
                    first = today + timedelta(days=rng.randint(1, 35))
                    last = first + timedelta(days=rng.randint(1, 14))
                    copy.write_row(
                        (_id(rng), walker, f"[{_local(first, 0).isoformat()},{_local(last, 0).isoformat()})")
                    )
                    counts["time_off"] += 1
        with cursor.copy("COPY dogs (id, owner_id, name, size, vaccinated) FROM STDIN") as copy:
            for owner in owners[:SEARCH_OWNERS]:
                dogs[owner] = [(_id(rng), rng.choices(SIZES, DOG_SIZE_WEIGHTS)[0]) for _ in range(rng.randint(3, 4))]
                for number, (dog, size) in enumerate(dogs[owner]):
                    copy.write_row((dog, owner, f"Dog {number}", size, True))
        first_day = today + timedelta(days=1)
        accepted: dict[str, list[tuple[datetime, datetime]]] = {}
        with cursor.copy("COPY bookings (id, owner_id, walker_id, start_ts, end_ts, status) FROM STDIN") as copy:
            for _ in range(BOOKINGS):
                walker, weekly = walkers[rng.randrange(WALKERS)]
                row = _booking_row(rng, walker, weekly, rng.choice(owners), first_day)
                if row[5] == "accepted":
                    # the exclusion constraint refuses overlapping accepted walks of one walker: such a
                    # walk stays requested, which search treats alike (busy), and the draws are unchanged
                    taken = accepted.setdefault(walker, [])
                    if any(start < row[4] and row[3] < end for start, end in taken):
                        row = (*row[:5], "requested")
                        counts["overlaps_requested"] += 1
                    else:
                        taken.append((row[3], row[4]))
                copy.write_row(row)
    copied = time.perf_counter() - started
    conn.execute("VACUUM (ANALYZE)")  # statistics, and the visibility map autovacuum would have set by now
    return {"counts": counts, "dogs": dogs, "copy_s": copied, "vacuum_s": time.perf_counter() - started - copied}


def _event(query: dict[str, Any], caller: str) -> dict[str, Any]:
    from dogwalk.registry import endpoint
    from local.api_gateway import rest_event

    route = endpoint("search_walkers")
    event = rest_event(route.method, route.path, urlencode(query), [], b"", route, {}, "127.0.0.1", str(uuid.uuid4()))
    event["requestContext"]["authorizer"] = {"sub": caller, "role": "owner", "principalId": caller}
    return event


def searches(
    rng: random.Random, today: date, dogs: dict[str, list[tuple[str, str]]], count: int
) -> list[dict[str, Any]]:
    """Random searches, round robin over the owners: a point, a start 07:00-19:00 local on the quarter
    hour in the next 4 weeks, a duration, 1-3 of the owner's dogs, a sort."""
    owners = sorted(dogs)
    made = []
    for index in range(count):
        owner = owners[index % len(owners)]
        lat, lon = _point(rng)
        start = _local(today + timedelta(days=rng.randint(1, 28)), 420 + 15 * rng.randrange(49))
        chosen = rng.sample(dogs[owner], rng.randint(1, 3))
        made.append({
            "owner": owner,
            "sizes": [size for _, size in chosen],
            "query": {"lat": lat, "lon": lon, "start": start.isoformat(), "duration_min": rng.choice(DURATIONS),
                      "dog_ids": ",".join(dog for dog, _ in chosen), "sort": _pick(rng, SORT_WEIGHTS),
                      "limit": LIMIT},
        })  # fmt: skip
    return made


def _check(answer: dict[str, Any]) -> dict[str, Any]:
    if answer["statusCode"] != 200:
        raise RuntimeError(f"search answered {answer['statusCode']}: {answer['body']}")
    return dict(json.loads(answer["body"]))


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


@contextmanager
def explained(options: str) -> Iterator[None]:
    """Within the block, the search query `walkers._search_rows` sends is sent as `EXPLAIN (options) …`
    (walkers.py is untouched: the benchmark intercepts psycopg's `Connection.execute`)."""
    import psycopg

    original = psycopg.Connection.execute

    def execute(self: Any, query: Any, params: Any = None, **kwargs: Any) -> Any:
        if isinstance(query, str) and SEARCH_QUERY_MARK in query:
            query = f"EXPLAIN ({options}) {query}"
        return original(self, query, params, **kwargs)

    with mock.patch.object(psycopg.Connection, "execute", execute):
        yield


def plan(search: dict[str, Any], options: str) -> list[str]:
    """The plan of `search` as `walkers._search_rows` runs it."""
    from dogwalk.marketplace import walkers

    query = search["query"]
    start = datetime.fromisoformat(query["start"])
    end = start + timedelta(minutes=query["duration_min"])
    with explained(options):
        rows = walkers._search_rows(query["lat"], query["lon"], start, end, search["sizes"], query["sort"], None, LIMIT)
    return [str(next(iter(row.values()))) for row in rows]


def _print_plan(lines: list[str]) -> None:
    for line in lines:
        print(f"    {line}")


def _rows(lines: list[str], marker: str) -> tuple[int, int, int]:
    """(estimated, actual, removed by its filter) rows of the first plan node whose line holds `marker`,
    in an EXPLAIN ANALYZE; zeros if there is none."""
    for index, line in enumerate(lines):
        if marker in line and "actual time" in line:
            estimated, actual = (int(float(value)) for value in re.findall(r"rows=([\d.]+)", line)[:2])
            removed = 0
            for detail in lines[index + 1 :]:
                if "->" in detail:
                    break
                if "Rows Removed by Filter:" in detail:
                    removed = int(float(detail.split(":")[1]))
            return estimated, actual, removed
    return 0, 0, 0


def _run_searches(planned: list[dict[str, Any]]) -> list[tuple[float, int, dict[str, Any]]]:
    """(ms, results, search) of each timed search, through the handler; every answer must be a 200."""
    from marketplace import search_walkers

    from local.runtime import LambdaContext

    context = LambdaContext("search_walkers")
    with contextlib.redirect_stdout(io.StringIO()):  # the process's first call prints a ColdStart metric
        for search in planned[:WARM_UP]:
            _check(search_walkers.lambda_handler(_event(search["query"], search["owner"]), context))
    timed = []
    loop_started = time.perf_counter()
    for search in planned[WARM_UP:]:
        event = _event(search["query"], search["owner"])
        began = time.perf_counter()
        answer = search_walkers.lambda_handler(event, context)
        elapsed = (time.perf_counter() - began) * 1000
        timed.append((elapsed, len(_check(answer)["items"]), search))
        if time.perf_counter() - loop_started > SEARCH_BUDGET_S:
            break
    return timed


def _report_latency(timed: list[tuple[float, int, dict[str, Any]]]) -> None:
    samples = [elapsed for elapsed, _, _ in timed]
    p95 = percentile(samples, 95)
    if len(timed) < SEARCHES:
        print(f"  STOPPED after {len(timed):,} of {SEARCHES:,} searches: the {SEARCH_BUDGET_S:.0f} s budget ran out"
              " (the searches are that slow); the figures are of those run, a random sample")  # fmt: skip
    print(f"  {len(timed):,} searches through the handler (after {WARM_UP} warm-up), every answer 200:")
    print(f"    p50 {percentile(samples, 50):.1f} ms   p95 {p95:.1f} ms   p99 {percentile(samples, 99):.1f} ms"
          f"   max {max(samples):.1f} ms   goal p95 < {TARGET_P95_MS:.0f} ms:"
          f" {'met' if p95 < TARGET_P95_MS else 'MISSED'}")  # fmt: skip
    print(f"    mean results {statistics.mean(n for _, n, _ in timed):.1f} (limit {LIMIT});"
          f" {sum(1 for _, n, _ in timed if n == 0)} searches found nobody")  # fmt: skip
    for sort, _ in SORT_WEIGHTS:
        subset = [elapsed for elapsed, _, search in timed if search["query"]["sort"] == sort]
        if subset:
            print(f"    sort={sort:<8} n={len(subset):<4} p50 {percentile(subset, 50):6.1f} ms"
                  f"   p95 {percentile(subset, 95):6.1f} ms")  # fmt: skip


def _report_plan(timed: list[tuple[float, int, dict[str, Any]]]) -> None:
    distance = [search for _, n, search in timed if search["query"]["sort"] == "distance" and n == LIMIT]
    representative = distance[0] if distance else timed[0][2]
    query = representative["query"]
    print(f"  Plan of a representative search (sort={query['sort']}, {'+'.join(representative['sizes'])} dog(s),"
          f" {query['duration_min']} min at {query['start']}, at {query['lat']}, {query['lon']}),"
          " as walkers._search_rows sends it:")  # fmt: skip
    print("  EXPLAIN:")
    estimated = plan(representative, "COSTS")
    _print_plan(estimated)
    print("  EXPLAIN (ANALYZE, BUFFERS):")
    _print_plan(plan(representative, "ANALYZE, BUFFERS"))
    print("  Index use (from the EXPLAIN):")
    for index in INDEXES:
        lines = [line.strip() for line in estimated if index in line]
        print(f"    {index}: {'USED' if lines else 'NOT USED'}")
        for line in lines:
            print(f"      {line}")


def _profile_slowest(timed: list[tuple[float, int, dict[str, Any]]]) -> None:
    print(f"  The {SLOWEST_PROFILED} slowest searches, again under EXPLAIN (ANALYZE, BUFFERS):")
    for elapsed, found, search in sorted(timed, key=lambda row: row[0], reverse=True)[:SLOWEST_PROFILED]:
        lines = plan(search, "ANALYZE, BUFFERS")
        execution = next((line for line in lines if line.startswith("Execution Time")), "?")
        buffers = next((line.strip() for line in lines if "Buffers:" in line), "?")
        box_estimate, box_rows, _ = _rows(lines, "walker_profiles_verified_location")
        scan_estimate, kept, removed = _rows(lines, " on walker_profiles p ")
        print(f"    {elapsed:6.1f} ms in the handler, sort={search['query']['sort']}, {len(search['sizes'])} dog(s),"
              f" {found} results; {execution}; {buffers}")  # fmt: skip
        box = f"the 25 km box gave {box_rows:,} walkers (planner estimate {box_estimate:,}); " if box_rows else ""
        print(f"      {box}the walker_profiles filters kept {kept:,} (estimate {scan_estimate:,}), removed {removed:,};"
              " each one kept is then joined to users, availability, time off and bookings")  # fmt: skip


def run_search_benchmark() -> None:
    import psycopg

    rng = random.Random(SEED)
    today = datetime.now(ZONE).date()
    section_started = time.perf_counter()
    print(f"Search ({WALKERS:,} walkers around New York, {BOOKINGS:,} bookings, {SEARCHES:,} searches):")
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        seeded = seed(conn, rng, today)
    counts = seeded["counts"]
    print(f"  seeded in {seeded['copy_s'] + seeded['vacuum_s']:.1f} s (generate + COPY {seeded['copy_s']:.1f} s,"
          f" VACUUM ANALYZE {seeded['vacuum_s']:.1f} s): {counts['walkers']:,} walkers,"
          f" {counts['windows']:,} weekly windows, {counts['time_off']:,} time off, {counts['bookings']:,} bookings"
          f" ({counts['overlaps_requested']:,} drawn accepted over another accepted walk kept as requested),"
          f" {BOOKING_OWNERS} owners, {sum(map(len, seeded['dogs'].values()))} dogs of the {SEARCH_OWNERS}"
          " searching owners")  # fmt: skip
    timed = _run_searches(searches(rng, today, seeded["dogs"], WARM_UP + SEARCHES))
    _report_latency(timed)
    _report_plan(timed)
    _profile_slowest(timed)
    print(f"  search section took {time.perf_counter() - section_started:.0f} s")
