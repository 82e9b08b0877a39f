"""The developer tools of the local platform: `python -m local invoke`, sample events for every
function, and the scheduler that runs registered jobs as EventBridge would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import types

import pytest

from dogwalk import registry
from local.scheduler import Scheduler
from tests.conftest import REPO


@pytest.mark.parametrize("function", registry.functions(), ids=lambda f: f.name)
def test_every_function_has_a_sample_event(function: registry.Function) -> None:
    event = json.loads((REPO / "events" / f"{function.name}.json").read_text())

    assert isinstance(event, dict) and event


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
