"""Functions run concurrently, as Lambda runs them: each concurrent invocation of a function gets a
warm worker process of its own (an execution environment), taken from a small pool per function
that grows on demand up to a limit (the function's concurrency) and keeps its workers while they are
warm. A worker imports its handler at its first invocation (its cold start) and then answers one
invocation at a time, so module-level state (connections, caches, Powertools' current event) is per
worker, as it is per execution environment on Lambda.

Workers are forked from a fork server (`multiprocessing`'s `forkserver`) that imported the heavy
packages once, so a new worker costs a fork and its handler's own modules, not a new interpreter.
The fork server starts at the first invocation and takes the environment as it is then (the
platform's connection settings).

The local gateway (`local.api_gateway`) invokes through a pool when the platform runs concurrent
(the default of `make run`); `DOGWALK_LOCAL_CONCURRENCY=serial` invokes in the platform's own
process, one invocation at a time (`local.runtime`), for a debugger or a profiler.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import threading
import traceback
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from dogwalk.declarations import Function

# what every function imports; the fork server imports it once for all the workers it forks
PRELOAD = ["dogwalk.edge.api", "dogwalk.edge.schemas", "dogwalk.adapters.db", "dogwalk.adapters.cache",
           "dogwalk.adapters.aws", "boto3", "botocore.session"]  # fmt: skip
# Lambda gives a function's init (its imports) 10 s of its own, outside the invocation's timeout; a
# machine busy with a test suite needs longer for a handler's first import
INIT_TIMEOUT_S = 60.0
# Lambda's default burst is far higher; locally a handful of environments per function shows the races
MAX_PER_FUNCTION = 16
# A worker is ended, as Lambda ends a timed-out environment, after its function's timeout times this:
# Lambda gives each environment a CPU share of its own, here every worker shares the machine's cores
SHARED_CPU_SLACK = 3


class FunctionError(Exception):
    """The handler raised: its type, message and traceback from the worker (Lambda's `errorType`, `errorMessage`)."""

    def __init__(self, error_type: str, message: str, trace: str):
        super().__init__(f"{error_type}: {message}")
        self.error_type, self.trace = error_type, trace


class FunctionTimeout(Exception):
    """The worker did not answer within its function's timeout; it was ended, as Lambda ends one."""


def _serve(connection: multiprocessing.connection.Connection, function: Function, pycache: str | None) -> None:
    """A worker: its init (the handler's imports, as Lambda's init phase), then one invocation at a
    time until the pool closes its end."""
    import sys

    from local import runtime

    if pycache:  # compiled modules kept outside the repository, so the next worker's init is shorter
        sys.pycache_prefix, sys.dont_write_bytecode = pycache, False
    try:
        runtime.handler_of(function)
    except BaseException as exc:  # an init that fails fails every invocation, as on Lambda
        connection.send(("error", type(exc).__name__, str(exc), traceback.format_exc()))
        return
    connection.send(("ready",))
    while True:
        try:
            event = connection.recv()
        except EOFError:
            return
        try:
            connection.send(("ok", runtime.invoke(function, event)))
        except BaseException as exc:  # the handler's failure is the invocation's answer, not the worker's end
            connection.send(("error", type(exc).__name__, str(exc), traceback.format_exc()))


@dataclass
class _Worker:
    process: multiprocessing.process.BaseProcess
    connection: multiprocessing.connection.Connection

    def call(self, event: dict[str, Any], timeout_s: float) -> Any:
        self.connection.send(event)
        if not self.connection.poll(timeout_s):
            raise FunctionTimeout(f"no answer within {timeout_s:.0f} s")
        answer = self.connection.recv()
        if answer[0] == "error":
            raise FunctionError(*answer[1:])
        return answer[1]

    def end(self) -> None:
        self.connection.close()
        self.process.join(timeout=2)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=2)


@dataclass
class _Pool:
    """One function's workers: the idle ones, and how many exist."""

    idle: list[_Worker] = field(default_factory=list)
    size: int = 0
    freed: threading.Condition = field(default_factory=lambda: threading.Condition(threading.Lock()))


class WorkerPool:
    def __init__(self, max_per_function: int = MAX_PER_FUNCTION, pycache: str | None = None):
        self.max_per_function = max_per_function
        self.pycache = pycache
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(PRELOAD)
        self._pools: dict[str, _Pool] = defaultdict(_Pool)
        self._lock = threading.Lock()
        self._closed = False
        self.started = 0  # workers started so far (cold starts), for the platform's summary and the tests

    def invoke(self, function: Function, event: dict[str, Any]) -> Any:
        """Invoke `function` in a worker of its own: an idle warm one, else a new one, else wait for one."""
        worker = self._take(function)
        try:
            answer = worker.call(event, function.timeout_s * SHARED_CPU_SLACK)
        except (FunctionTimeout, EOFError, OSError):  # timed out or died: this environment is gone
            self._discard(function, worker)
            raise
        except FunctionError:
            self._give_back(function, worker)
            raise
        self._give_back(function, worker)
        return answer

    def _take(self, function: Function) -> _Worker:
        with self._lock:
            pool = self._pools[function.name]
        with pool.freed:
            while not pool.idle and pool.size >= self.max_per_function:
                pool.freed.wait()
            if pool.idle:
                return pool.idle.pop()  # the most recently used: the warmest
            pool.size += 1
        try:
            return self._start(function)
        except BaseException:
            with pool.freed:
                pool.size -= 1
                pool.freed.notify()
            raise

    def _start(self, function: Function) -> _Worker:
        ours, theirs = self._context.Pipe()
        process = self._context.Process(target=_serve, args=(theirs, function, self.pycache),
                                         name=f"lambda:{function.name}", daemon=True)  # fmt: skip
        process.start()
        theirs.close()
        with self._lock:
            self.started += 1
        worker = _Worker(process, ours)
        try:
            if not ours.poll(INIT_TIMEOUT_S):
                raise FunctionTimeout(f"{function.name}: no init within {INIT_TIMEOUT_S:.0f} s")
            answer = ours.recv()
        except BaseException:
            worker.process.kill()
            worker.end()
            raise
        if answer[0] == "error":
            worker.end()
            raise FunctionError(*answer[1:])
        return worker

    def _give_back(self, function: Function, worker: _Worker) -> None:
        pool = self._pools[function.name]
        with pool.freed:
            if self._closed:
                pool.size -= 1
                worker.end()
            else:
                pool.idle.append(worker)
            pool.freed.notify()

    def _discard(self, function: Function, worker: _Worker) -> None:
        worker.process.kill()
        worker.end()
        pool = self._pools[function.name]
        with pool.freed:
            pool.size -= 1
            pool.freed.notify()

    def warm(self) -> dict[str, int]:
        """Each function's number of workers (warm or busy)."""
        with self._lock:
            return {name: pool.size for name, pool in self._pools.items() if pool.size}

    def close(self) -> None:
        with self._lock:
            self._closed = True
            pools = list(self._pools.values())
        for pool in pools:
            with pool.freed:
                idle, pool.idle = pool.idle, []
                pool.size -= len(idle)
            for worker in idle:
                worker.end()

    # the platform stops its parts by calling `stop`
    stop = close
