"""The developer tools of the local platform: `python -m local invoke`, sample events for every
function, and the scheduler that runs registered jobs as EventBridge would."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import types
from pathlib import Path

import pytest

from dogwalk import registry
from local import runtime, services
from local.runtime import SAMPLE_CALLERS
from local.scheduler import Scheduler
from local.services import free_port
from tests.conftest import REPO
from tests.integration.marketplace.conftest import run_sql


@pytest.mark.parametrize("function", registry.functions(), ids=lambda f: f.name)
def test_every_function_answers_its_sample_event_without_a_fault(
    function: registry.Function, state, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    """Each sample event, invoked as Lambda would invoke it, on a platform set up as `make run`
    sets it up that knows only the events' callers: an answer (a 4xx for a resource the database
    does not hold is one), never a 5xx or a crash."""
    from dogwalk.config import settings
    from local.senders import ensure_notification_senders

    for name, value in ensure_notification_senders().items():
        monkeypatch.setenv(name, value)
    settings.cache_clear()
    request.addfinalizer(settings.cache_clear)
    if registry.HOME_ACCESS in function.uses:
        request.getfixturevalue("home_access_key")
    event = json.loads((REPO / "events" / f"{function.name}.json").read_text())
    for user_id, role in SAMPLE_CALLERS.items():
        run_sql(state.database_url, "INSERT INTO users (id, email, role, name, password_hash)"
                " VALUES (%s, %s, %s, 'Sample caller', 'x')", user_id, f"{user_id}@example.com", role)  # fmt: skip

    try:
        answer = runtime.invoke(function, event)
    except Exception as exc:
        # the token authorizers refuse as API Gateway expects: by raising "Unauthorized"
        assert function in (registry.AUTHORIZER,) and str(exc) == "Unauthorized", repr(exc)
        return
    status = answer.get("statusCode", 200) if isinstance(answer, dict) else 200
    assert status < 500, answer
    if isinstance(answer, dict) and "batchItemFailures" in answer:  # a queue consumer took every record
        assert answer["batchItemFailures"] == []


def test_invoke_runs_one_function_with_a_sample_event(state) -> None:
    env = {**os.environ, "DATABASE_URL": state.database_url, "REDIS_URL": state.redis_url}

    result = subprocess.run(
        [sys.executable, "-m", "local", "invoke", "get_health", "--event", "events/get_health.json"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip

    answer = json.loads(result.stdout)
    assert answer["statusCode"] == 200
    assert json.loads(answer["body"])["checks"] == {"database": "ok", "cache": "ok"}


def test_invoke_names_the_known_functions_when_one_is_unknown() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "local", "invoke", "no_such", "--event", "events/get_health.json"],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip

    assert result.returncode == 2
    assert "get_health" in result.stderr


def test_scheduler_invokes_a_registered_job_with_a_scheduled_event(monkeypatch: pytest.MonkeyPatch) -> None:
    received: list[dict] = []
    ran = threading.Event()

    def lambda_handler(event: dict, context: object) -> str:
        received.append(event)
        ran.set()
        return "done"

    monkeypatch.setitem(sys.modules, "tick_job", types.SimpleNamespace(lambda_handler=lambda_handler))
    job = registry.Schedule(name="tick_job", every_s=60)

    assert Scheduler.run_once(job) == "done"
    assert received[0]["detail-type"] == "Scheduled Event"
    assert received[0]["resources"] == ["arn:aws:events:us-east-1:000000000000:rule/tick_job"]


def test_a_failing_job_does_not_stop_the_scheduler(monkeypatch: pytest.MonkeyPatch) -> None:
    def lambda_handler(event: dict, context: object) -> None:
        raise RuntimeError("flaky")

    monkeypatch.setitem(sys.modules, "flaky_job", types.SimpleNamespace(lambda_handler=lambda_handler))

    assert Scheduler.run_once(registry.Schedule(name="flaky_job", every_s=60)) is None


@pytest.mark.parametrize(
    ("every_s", "expression"),
    [(60, "rate(1 minute)"), (300, "rate(5 minutes)"), (3600, "rate(1 hour)"), (604800, "rate(7 days)")],
)
def test_schedule_expressions_are_eventbridge_rates(every_s: int, expression: str) -> None:
    assert registry.Schedule(name="x", every_s=every_s).expression == expression


def test_free_ports_are_below_the_ephemeral_range_and_distinct() -> None:
    """Outgoing connections and binds to port 0 take their local ports from the ephemeral range:
    a port chosen there could be taken before the server meant for it binds."""
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    ports = [free_port() for _ in range(50)]

    assert len(set(ports)) == 50
    assert all(port < low for port in ports)


def test_a_port_something_listens_on_is_not_free(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        monkeypatch.setattr(services, "FREE_PORTS", range(port, port + 1))
        monkeypatch.setattr(services, "_handed_out", set())
        with pytest.raises(RuntimeError, match="no free port"):
            free_port()
    assert free_port() == port
