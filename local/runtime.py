"""Invoking a function the way Lambda does: its module imported from `functions/<service>/` (`functions/` on the path
like `/var/task`, the layer like `/opt/python`), a context object, one invocation at a time.

Powertools keeps the current event on class attributes shared by every resolver of a process,
so invocations in this process are serialised, as if every function were one warm container.
The first import of a handler is under the same lock: CPython's imports of one package from two threads
at once can fail half-way (`KeyError` in `_find_and_load`, "partially initialized module"), and the
queue pollers, the schedules and the WebSocket server all invoke functions from their own threads.
"""

from __future__ import annotations

import importlib
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from dogwalk.declarations import Function

_invoke_lock = threading.Lock()
# the callers the sample events (`events/<name>.json`) carry in their authorizer context
SAMPLE_CALLERS = {"0b7e6f1c-1111-4c59-9d8e-0a6f3b1c2d4e": "owner", "2ddd9910-9eb2-4517-8950-6236c9002bc5": "walker"}


@dataclass
class LambdaContext:
    function_name: str
    memory_limit_in_mb: int = 256
    timeout_s: int = 10
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "local"
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_s
        self.log_group_name = f"/aws/lambda/{self.function_name}"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:000000000000:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def handler_of(function: Function) -> Any:
    module_name, _, attribute = function.handler.rpartition(".")
    # as Lambda's runtime reads the setting: `auth/get_me.lambda_handler` is module `auth.get_me`
    return getattr(importlib.import_module(module_name.replace("/", ".")), attribute)


def invoke(function: Function, event: dict[str, Any]) -> Any:
    context = LambdaContext(function.name, function.memory_mb, function.timeout_s)
    with _invoke_lock:
        return handler_of(function)(event, context)
