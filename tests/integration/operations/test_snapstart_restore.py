"""A function restored from a SnapStart snapshot makes its own connections: the hook forgets any
the snapshot held, and the next query connects again; and its first request imports nothing the
before-snapshot hook could have imported (real PostgreSQL and Redis)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest

from dogwalk.adapters import cache, db, snapstart
from local.runtime import SAMPLE_CALLERS
from tests.conftest import Dependencies


def test_after_restore_forgets_the_snapshots_connections_and_the_next_call_makes_its_own() -> None:
    with db.transaction() as conn:
        snapshot_connection = conn
        assert conn.execute("SELECT 1 AS one").fetchone() == {"one": 1}
    cache.client().ping()
    snapshot_cache = cache.client()

    snapstart.after_restore()

    assert snapshot_connection.closed
    with db.transaction() as conn:
        assert conn is not snapshot_connection
        assert conn.execute("SELECT 1 AS one").fetchone() == {"one": 1}
    assert cache.client() is not snapshot_cache
    assert cache.client().ping()


RESTORED = """
import json, sys
from pathlib import Path
handler = __import__(sys.argv[1], fromlist=["lambda_handler"])
from dogwalk.adapters import snapstart
from local.runtime import LambdaContext
if sys.argv[3] == "primed":
    snapstart.before_snapshot()
snapshot = set(sys.modules)
snapstart.after_restore()
answer = handler.lambda_handler(json.loads(Path(sys.argv[2]).read_text()), LambdaContext("restored"))
print(json.dumps({"status": answer["statusCode"], "late": sorted(set(sys.modules) - snapshot)}))
"""
DEPENDENCIES = ("psycopg", "redis", "boto3", "botocore", "stripe", "cryptography", "dogwalk", "aws_lambda_powertools")


def _restored(module: str, sample: str, mode: str) -> dict[str, Any]:
    """`module`'s first invocation of its sample event in a fresh interpreter, after the
    before-snapshot hook (`primed`) or without it, as a function restored from its snapshot runs it."""
    event = Path(__file__).resolve().parents[3] / "events" / f"{sample}.json"
    run = subprocess.run(  # noqa: S603 - our interpreter, our script
        [sys.executable, "-c", RESTORED, module, str(event), mode], capture_output=True, text=True, check=True
    )
    return dict(json.loads(run.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize(("module", "sample"), [("auth.get_me", "get_me"), ("marketplace.create_dog", "create_dog")])
def test_a_restored_endpoints_first_request_imports_none_of_its_dependencies(
    state: Dependencies, module: str, sample: str
) -> None:
    with psycopg.connect(state.database_url, autocommit=True) as conn:  # the sample events' callers
        for user_id, role in SAMPLE_CALLERS.items():
            conn.execute("INSERT INTO users (id, email, role, name, password_hash) VALUES (%s, %s, %s, 'S', 'x')",
                         (user_id, f"{user_id}@example.com", role))  # fmt: skip
    primed = _restored(module, sample, "primed")
    unprimed = _restored(module, sample, "unprimed")

    assert primed["status"] in {200, 201}
    assert [name for name in primed["late"] if name.partition(".")[0] in DEPENDENCIES] == []
    # without the hook, the role check's limiter would import Redis after the restore
    assert {"redis", "dogwalk.adapters.ratelimit"} <= set(unprimed["late"])


def test_every_endpoints_primed_modules_import() -> None:
    """A name the hook cannot import would fail the snapshot, and with it the version's publication."""
    from dogwalk.registry import ENDPOINTS

    modules = ", ".join(repr(endpoint.module) for endpoint in ENDPOINTS)
    script = f"import importlib\nfor m in [{modules}]: importlib.import_module(m)\n"
    script += "from dogwalk.adapters import snapstart\nsnapstart.before_snapshot()\nprint(' '.join(snapstart._primed))"
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)  # noqa: S603

    primed = set(run.stdout.strip().splitlines()[-1].split())
    assert {"redis", "boto3", "stripe", "dogwalk.adapters.ratelimit", "dogwalk.edge.idempotency"} <= primed


SIGNING = ["boto3", "cryptography.hazmat.backends.openssl"]


@pytest.mark.parametrize(
    ("module", "reads"),
    [
        ("auth.authorize", []),
        ("tracking.authorize_device", ["psycopg", "redis"]),
        ("tracking.ws_connect", ["psycopg", "redis"]),
    ],
)
def test_a_verifiers_snapshot_holds_boto3_and_what_its_first_request_reads(module: str, reads: list[str]) -> None:
    """The first request of the authorizers and of the live view's `$connect` reads the signing keys
    (boto3, the signing backend), the device authorizer's and `$connect`'s the suspension list
    (Redis, PostgreSQL when Redis cannot answer) too: imported before the snapshot, not by the first
    request of every restored environment. The token authorizer, which never asks, imports neither."""
    script = f"import json, sys, {module}\nfrom dogwalk.adapters import snapstart\n"
    script += "wanted = {'boto3', 'redis', 'psycopg', 'cryptography.hazmat.backends.openssl'}\n"
    script += "before = sorted(wanted & set(sys.modules))\nsnapstart.before_snapshot()\n"
    script += "print(json.dumps([before, sorted(wanted & set(sys.modules))]))"
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)  # noqa: S603

    before, after = json.loads(run.stdout.strip().splitlines()[-1])
    assert (before, after) == (reads, sorted(SIGNING + reads))
