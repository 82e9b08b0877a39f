"""Powertools Logger and Metrics shared by every function; the Tracer only when asked for.

Lambda active tracing (X-Ray) is on in the cloud regardless; Powertools' Tracer adds named
subsegments at a price of about 250 ms of cold start, so `DOGWALK_TRACING=powertools` opts in.
"""

from __future__ import annotations

import functools
import gc
import sys
import warnings
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics

from dogwalk.adapters import snapstart  # noqa: F401 - registers SnapStart's after-restore hook in every function
from dogwalk.config import settings

SERVICE = "dogwalk"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace="DogWalk", service=SERVICE)

# A request that records no metric of its own is normal, not worth a warning per invocation.
warnings.filterwarnings("ignore", message="No application metrics to publish")

_tracer: Any = None


def tracer() -> Any:
    """The Powertools Tracer, created on first use (only when tracing is switched on)."""
    global _tracer
    if _tracer is None:
        from aws_lambda_powertools import Tracer

        _tracer = Tracer(service=SERVICE)
    return _tracer


def instrument(handler: Callable[..., Any], correlation_id_path: str | None = None) -> Callable[..., Any]:
    """Every function's entry point: Logger context (and correlation id), EMF metrics flushed at the
    end, and Tracer subsegments when `DOGWALK_TRACING=powertools`."""

    warm = False

    @functools.wraps(handler)
    def fresh(event: Any, context: Any) -> Any:
        nonlocal warm
        outbox = sys.modules.get("dogwalk.events.outbox")  # loaded only by functions that record events
        if outbox is not None:
            outbox.forget()  # a previous invocation's ids are not this one's to publish
        try:
            return handler(event, context)
        finally:
            if not warm:  # what the cold start loaded lives as long as the environment: the
                warm = True  # collector's full passes skip it from now on (a tenth of a busy ingest's time)
                gc.freeze()

    wrapped = metrics.log_metrics(fresh, capture_cold_start_metric=True)
    if settings().tracing == "powertools":
        wrapped = tracer().capture_lambda_handler(wrapped)
    # log_event off whatever POWERTOOLS_LOGGER_LOG_EVENT says: events carry tokens and passwords
    return logger.inject_lambda_context(
        wrapped, correlation_id_path=correlation_id_path, clear_state=True, log_event=False
    )
