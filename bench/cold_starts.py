"""Every endpoint's cold start beside the cookbook's (`bench.cookbook`), interleaved in one run:

    .venv/bin/python -m bench.cold_starts [--runs N] [NAME ...]     # also the first part of `make bench`

A cold start is what Lambda's INIT and first invocation cost in a fresh interpreter (interpreter
start-up excluded, as the runtime's own start is): importing the handler module, then invoking it
once with its sample event (`events/<name>.json`) on real PostgreSQL, Redis, moto and localstripe.
The endpoints run with SnapStart, so each is also started as a snapshot would be: the import, what
the before-snapshot hook primes (`dogwalk.adapters.snapstart`: what the first request would
otherwise import late), then the after-restore hook and the invocation, timed apart.
An answer of 4xx counts (the sample's ids are in no database); a 5xx is reported. Each endpoint's
runs alternate with the reference's, so that both see the same machine at the same moment; the ratio
is the medians'. The goal (issue 17): no endpoint above 1.2x the reference. The cookbook reading the
database and the cache with the packages the design fixes (`bench.cookbook_stack`, also interleaved)
is the floor under that goal: what those packages cost on top of the cookbook, no handler can avoid.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RUNS = 5
GOAL = 1.2
SCRIPT = """
import importlib, json, sys, time
started = time.perf_counter()
handler = importlib.import_module(sys.argv[1])
imported = time.perf_counter()
from dogwalk.adapters import snapstart
if sys.argv[3] == "snapstart":
    snapstart.before_snapshot()
primed = time.perf_counter()
from local.runtime import LambdaContext
if sys.argv[3] == "snapstart":
    snapstart.after_restore()
answer = handler.lambda_handler(json.loads(sys.argv[2]), LambdaContext(sys.argv[1].rpartition(".")[2]))
done = time.perf_counter()
print(json.dumps({"import_ms": (imported - started) * 1000, "primed_ms": (primed - imported) * 1000,
                  "total_ms": (done - started) * 1000, "first_ms": (done - primed) * 1000,
                  "status": answer.get("statusCode")}))
"""


def reference_event(prefix: str = "") -> dict[str, Any]:
    """GET /todos/1 for `bench.cookbook`; GET /stored/todos/1 (`prefix` "/stored") for `bench.cookbook_stack`."""
    from dogwalk.declarations import Endpoint
    from local.api_gateway import rest_event

    route = Endpoint(name="cookbook", method="GET", path=prefix + "/todos/{todo_id}")
    return rest_event("GET", prefix + "/todos/1", "", [("Accept", "application/json")], b"", route, {"todo_id": "1"},
                      "203.0.113.7", "c6af9ac6-7b61-11e6-9a41-93e8deadbeef")  # fmt: skip


def once(module: str, event: dict[str, Any], env: dict[str, str], mode: str = "cold") -> dict[str, float]:
    """One start of `module` in a fresh interpreter: `cold` as without SnapStart (import, then the
    first invocation), `snapstart` with the before-snapshot hook after the import and the
    after-restore hook before the invocation (the time between is the snapshot's)."""
    result = subprocess.run(  # noqa: S603  # nosec B603 - our own interpreter and script
        [sys.executable, "-c", SCRIPT, module, json.dumps(event), mode],
        env=env, capture_output=True, text=True, check=True, cwd=ROOT,
    )  # fmt: skip
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def measure(names: list[str], runs: int, env: dict[str, str]) -> list[dict[str, Any]]:
    from dogwalk.registry import endpoint

    cookbook, stored = reference_event(), reference_event("/stored")
    rows = []
    for name in names:
        route = endpoint(name)
        event = json.loads((ROOT / "events" / f"{name}.json").read_text())
        ours, theirs, imports, primes, restored, reference_restored, statuses = [], [], [], [], [], [], set()
        floors = []
        for _ in range(runs):
            cold = once(route.module, event, env)
            ours.append(cold["total_ms"])
            imports.append(cold["import_ms"])
            statuses.add(cold["status"])
            snapshotted = once(route.module, event, env, "snapstart")
            primes.append(snapshotted["primed_ms"])
            restored.append(snapshotted["first_ms"])
            statuses.add(snapshotted["status"])
            # the cookbook has nothing to prime: one start gives its cold start and its restored invocation
            reference = once("bench.cookbook", cookbook, env, "snapstart")
            theirs.append(reference["total_ms"])
            reference_restored.append(reference["first_ms"])
            floors.append(once("bench.cookbook_stack", stored, env)["total_ms"])
        ms, reference_ms, floor_ms = statistics.median(ours), statistics.median(theirs), statistics.median(floors)
        rows.append({"name": name, "ms": ms, "import_ms": statistics.median(imports),
                     "primed_ms": statistics.median(primes), "reference_ms": reference_ms,
                     "first_ms": statistics.median(restored),
                     "reference_first_ms": statistics.median(reference_restored), "floor_ms": floor_ms,
                     "ratio": ms / reference_ms, "floor_ratio": ms / floor_ms,
                     "statuses": sorted(statuses)})  # fmt: skip
    return rows


def report(rows: list[dict[str, Any]], runs: int) -> None:
    print("Cold start of every endpoint without SnapStart ('ours': import + first invocation of its sample event,")
    print(f"fresh interpreter) beside the Powertools cookbook function's (bench/cookbook.py), interleaved,"
          f" median of {runs};")  # fmt: skip
    print("with SnapStart (a start of its own): 'primed', what the before-snapshot hook imports on top of the import,")
    print("and 'restored', the after-restore hook and the first invocation, what a restored environment runs;")
    print("'floor', the cookbook reading one row from PostgreSQL and one key from Redis (bench/cookbook_stack.py),")
    print("cold, interleaved too, and 'ours' against it:")
    print(f"  {'endpoint':<34} {'ours':>9} {'(import)':>10} {'primed':>9} {'restored':>10} {'cookbook':>9}"
          f" {'ratio':>6} {'floor':>9} {'/floor':>6}  answer")  # fmt: skip
    for row in sorted(rows, key=lambda r: -r["ratio"]):
        flag = "  above the goal" if row["ratio"] > GOAL else ""
        print(f"  {row['name']:<34} {row['ms']:7.1f} ms {row['import_ms']:7.1f} ms {row['primed_ms']:6.1f} ms"
              f" {row['first_ms']:7.1f} ms {row['reference_ms']:7.1f} ms {row['ratio']:5.2f}x"
              f" {row['floor_ms']:6.1f} ms {row['floor_ratio']:5.2f}x"
              f"  {','.join(map(str, row['statuses']))}{flag}")  # fmt: skip
    ratios = [row["ratio"] for row in rows]
    above = [row["name"] for row in rows if row["ratio"] > GOAL]
    print(f"  median ratio {statistics.median(ratios):.2f}x, worst {max(ratios):.2f}x;"
          f" {len(above)} of {len(rows)} above {GOAL}x{': ' + ', '.join(above) if above else ''}")  # fmt: skip
    floor = statistics.median(row["floor_ms"] / row["reference_ms"] for row in rows)
    floor_ratios = [row["floor_ratio"] for row in rows]
    above_floor = [row["name"] for row in rows if row["floor_ratio"] > GOAL]
    print(f"  the floor itself is {floor:.2f}x the cookbook (median): no endpoint that reads the database and the"
          f" cache can meet {GOAL}x of the cookbook; against the floor, median {statistics.median(floor_ratios):.2f}x,"
          f" worst {max(floor_ratios):.2f}x, {len(above_floor)} above {GOAL}x"
          f"{': ' + ', '.join(above_floor) if above_floor else ''}")  # fmt: skip
    firsts = sorted(row["first_ms"] for row in rows)
    reference_first = statistics.median(row["reference_first_ms"] for row in rows)
    print(f"  restored from a snapshot (SnapStart, the endpoints' setting), an environment runs only the hook and the"
          f" first invocation: median {statistics.median(firsts):.1f} ms, worst {firsts[-1]:.1f} ms; the cookbook's"
          f" {reference_first:.1f} ms (the restore itself is Lambda's and cannot be measured here)")  # fmt: skip
    faults = [row["name"] for row in rows if any(status and status >= 500 for status in row["statuses"])]
    if faults:
        print(f"  5xx on the sample event (measured all the same): {', '.join(faults)}")


def platform_env(workdir: Path) -> tuple[dict[str, str], list[Any]]:
    """PostgreSQL, Redis, localstripe and moto as `make run` starts them, the sample events' callers
    in the database, the signing key and the payments secret in moto."""
    import logging

    import psycopg
    from moto.server import ThreadedMotoServer

    from dogwalk.adapters import migrations
    from local.services import LocalStripe, Postgres, Redis, free_port

    postgres, redis, stripe = Postgres(workdir / "postgres", free_port()), Redis(workdir / "redis", free_port()), None
    moto_port = free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=moto_port, verbose=False)
    started: list[Any] = [postgres, redis]
    os.environ.update(DATABASE_URL=postgres.start(), REDIS_URL=redis.start(), AWS_DEFAULT_REGION="us-east-1",
                      AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench",  # noqa: S106  # nosec B106
                      AWS_ENDPOINT_URL=f"http://127.0.0.1:{moto_port}", POWERTOOLS_LOG_LEVEL="WARNING",
                      POWERTOOLS_METRICS_NAMESPACE="Bench")  # fmt: skip
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's server logs every request otherwise
    moto.start()
    started.append(moto)
    stripe = LocalStripe(free_port())
    os.environ["DOGWALK_STRIPE_API_BASE"] = stripe.start()
    started.append(stripe)
    from dogwalk.auth import signing_keys
    from dogwalk.config import settings
    from local.platform import _put_local_payments_secret
    from local.runtime import SAMPLE_CALLERS

    settings.cache_clear()
    signing_keys.ensure_signing_key()
    _put_local_payments_secret()
    from local.home_access_key import ensure_home_access_key

    ensure_home_access_key()
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        migrations.apply(conn)
        for user_id, role in SAMPLE_CALLERS.items():
            conn.execute("INSERT INTO users (id, email, role, name, password_hash) VALUES (%s, %s, %s, 'Bench', 'x')",
                         (user_id, f"{user_id}@example.com", role))  # fmt: skip
    return dict(os.environ), started


def run_cold_starts(
    names: list[str] | None = None, runs: int = RUNS, without_bytecode: bool = False
) -> list[dict[str, Any]]:
    from dogwalk.registry import ENDPOINTS

    workdir = Path(tempfile.mkdtemp(prefix="dogwalk-cold-"))
    before = dict(os.environ)
    env, started = platform_env(workdir)
    if without_bytecode:  # as a Lambda function whose code carries no .pyc: every module compiled, nothing kept
        env.update(PYTHONDONTWRITEBYTECODE="1", PYTHONPYCACHEPREFIX=str(workdir / "no-bytecode"))
    try:
        rows = measure(names or [endpoint.name for endpoint in ENDPOINTS], runs, env)
    finally:
        for service in reversed(started):
            service.stop()
        # the rest of `make bench` must not reach for the servers just stopped
        os.environ.clear()
        os.environ.update(before)
        from dogwalk.adapters import aws
        from dogwalk.config import settings

        settings.cache_clear()
        aws.reset()
    report(rows, runs)
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.cold_starts", description=__doc__)
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--without-bytecode", action="store_true", help="compile every module from source")
    parser.add_argument("names", nargs="*", help="endpoints (default: every one)")
    arguments = parser.parse_args()
    run_cold_starts(arguments.names, arguments.runs, arguments.without_bytecode)
