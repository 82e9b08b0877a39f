"""Runs the registered scheduled jobs on their schedules, as EventBridge rules do in the cloud."""

from __future__ import annotations

import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from dogwalk import registry
from local import runtime


def scheduled_event(schedule: registry.Schedule) -> dict[str, Any]:
    """The event an EventBridge scheduled rule sends."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "000000000000",
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": [f"arn:aws:events:us-east-1:000000000000:rule/{schedule.name}"],
        "detail": {},
    }


class Scheduler:
    def __init__(self, stop: threading.Event, schedules: tuple[registry.Schedule, ...] = registry.SCHEDULES):
        self.stop = stop
        self.schedules = schedules

    def start(self) -> None:
        for schedule in self.schedules:
            threading.Thread(target=self._loop, args=(schedule,), name=schedule.name, daemon=True).start()

    def _loop(self, schedule: registry.Schedule) -> None:
        next_run = time.monotonic() + schedule.every_s
        while not self.stop.wait(max(0.0, next_run - time.monotonic())):
            next_run += schedule.every_s
            self.run_once(schedule)

    @staticmethod
    def run_once(schedule: registry.Schedule) -> Any:
        try:
            return runtime.invoke(schedule, scheduled_event(schedule))
        except Exception as exc:  # a failed run is retried at the next tick, as EventBridge would
            print(f"scheduled {schedule.name} failed: {exc!r}", file=sys.stderr)
            return None
