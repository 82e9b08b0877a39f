"""Cold starts of this tree beside those of another commit, interleaved in one run, so that a
refactoring's cost is read against its reference measured on the same machine at the same time:

    .venv/bin/python -m bench.reference <commit>      # e.g. the commit before the change

The commit is checked out into a temporary git worktree (removed after); each run imports the
handler in a fresh interpreter with that tree's layer and `functions/` first on the path, on one
PostgreSQL and Redis of this tree, as `python -m bench` measures it (interpreter start excluded).
A tree from before the service packages (`functions/<name>.py`) is found as well.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = 20
NAMES = ("get_health", "get_me")
SCRIPT = """
import importlib, json, sys, time
started = time.perf_counter()
handler = importlib.import_module(sys.argv[1])
imported = time.perf_counter()
from local.runtime import LambdaContext
answer = handler.lambda_handler(json.loads(sys.argv[2]), LambdaContext(sys.argv[1].rpartition(".")[2]))
done = time.perf_counter()
print(json.dumps({"import_ms": (imported - started) * 1000, "total_ms": (done - started) * 1000,
                  "status": answer.get("statusCode")}))
"""


def module_in(tree: Path, name: str) -> str:
    found = sorted(tree.glob(f"functions/*/{name}.py"))
    return f"{found[0].parent.name}.{name}" if found else name


def main(reference: str) -> None:
    import psycopg

    from dogwalk.adapters import migrations
    from dogwalk.registry import endpoint
    from local.api_gateway import rest_event
    from local.services import Postgres, Redis, free_port

    workdir = Path(tempfile.mkdtemp(prefix="dogwalk-reference-"))
    worktree = workdir / "reference"
    subprocess.run(["git", "worktree", "add", "--detach", str(worktree), reference],  # noqa: S603, S607
                   cwd=ROOT, check=True, capture_output=True)  # fmt: skip
    postgres, redis = Postgres(workdir / "postgres", free_port()), Redis(workdir / "redis", free_port())
    env = {**os.environ, "DATABASE_URL": postgres.start(), "REDIS_URL": redis.start(),
           "POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_NAMESPACE": "Bench"}  # fmt: skip
    try:
        user = str(uuid.uuid4())
        with psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
            migrations.apply(conn)
            conn.execute("INSERT INTO users (id, email, role, name, password_hash) VALUES (%s, %s, 'owner', 'B', 'x')",
                         (user, f"{user}@example.com"))  # fmt: skip
        trees = {reference[:12]: worktree, "this tree": ROOT}
        samples: dict[tuple[str, str], list[tuple[float, float]]] = {(t, n): [] for t in trees for n in NAMES}
        for _ in range(RUNS):
            for name in NAMES:
                route = endpoint(name)
                event = rest_event(route.method, route.path, "", [], b"", route, {}, "127.0.0.1", str(uuid.uuid4()))
                if not route.public:
                    event["requestContext"]["authorizer"] = {"sub": user, "role": "owner", "principalId": user}
                for label, tree in trees.items():
                    paths = f"{tree}/layers/core/python:{tree}/functions:{tree}"
                    result = subprocess.run(  # noqa: S603 - our own interpreter and script
                        [sys.executable, "-c", SCRIPT, module_in(tree, name), json.dumps(event)],
                        env={**env, "PYTHONPATH": paths}, capture_output=True, text=True, check=True, cwd=tree,
                    )  # fmt: skip
                    measured = json.loads(result.stdout.strip().splitlines()[-1])
                    if measured["status"] != 200:
                        raise RuntimeError(f"{name} in {label} answered {measured['status']}")
                    samples[(label, name)].append((measured["total_ms"], measured["import_ms"]))
        print(f"Cold start (import + first invocation, fresh interpreter), median of {RUNS}, interleaved:")
        for name in NAMES:
            for label in trees:
                total = statistics.median(t for t, _ in samples[(label, name)])
                imported = statistics.median(i for _, i in samples[(label, name)])
                print(f"  {name:<11} {label:<13} {total:7.1f} ms   (of which import {imported:.1f} ms)")
    finally:
        redis.stop()
        postgres.stop()
        subprocess.run(["git", "worktree", "remove", "--force", str(worktree)], cwd=ROOT, check=False)  # noqa: S603, S607


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m bench.reference <commit>")
    main(sys.argv[1])
