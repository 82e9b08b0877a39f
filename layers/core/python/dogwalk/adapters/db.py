"""PostgreSQL through psycopg 3: one connection per container (per thread, where a process runs
several, as tests and local tools do), made lazily, kept across warm invocations and made again
after a failure. Every state change runs in `transaction()`."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

from dogwalk.config import settings
from dogwalk.errors import Unavailable

Connection = psycopg.Connection[dict[str, Any]]

_local = threading.local()

# the certificate authorities PostgreSQL's TLS is verified against in the cloud (sslmode=verify-full)
CERTIFICATES = Path(__file__).with_name("certificates")
RDS_PROXY_TRUST = CERTIFICATES / "rds-proxy.pem"  # Amazon Trust Services: RDS Proxy's ACM certificates
RDS_TRUST = CERTIFICATES / "rds.pem"  # Amazon RDS's own authorities: a cluster's endpoints

# RDS accepts an IAM auth token for 15 minutes after it is signed; new connections reuse one for 10
IAM_TOKEN_REUSE_S = 600
_tokens: dict[tuple[str, int, str, str], tuple[float, str]] = {}


def iam_auth_token(host: str, port: int, user: str, region: str) -> str:
    """An RDS IAM auth token for `user` at `host:port`: a SigV4-presigned URL that botocore signs
    locally (no network call), reused for new connections while it is younger than 10 minutes."""
    key = (host, port, user, region)
    now = time.monotonic()
    cached = _tokens.get(key)
    if cached is not None and now - cached[0] < IAM_TOKEN_REUSE_S:
        return cached[1]
    from dogwalk.adapters import aws

    token: str = aws.regional_client("rds", region).generate_db_auth_token(
        DBHostname=host, Port=port, DBUsername=user, Region=region
    )
    _tokens[key] = (now, token)
    return token


def connect_arguments() -> dict[str, Any]:
    """`psycopg.connect` keyword arguments for DATABASE_URL. In the cloud (`database_iam_auth_region`
    set): an IAM auth token as the password, and the server's certificate verified against RDS
    Proxy's authorities unless the URL names its own; locally, the URL as it is."""
    current = settings()
    arguments: dict[str, Any] = {"conninfo": current.database_url}
    if current.database_iam_auth_region:
        from psycopg.conninfo import conninfo_to_dict

        parts = conninfo_to_dict(current.database_url)
        host, user = str(parts.get("host", "")), str(parts.get("user", ""))
        if not host or not user:
            raise ValueError("DATABASE_URL needs a host and a user for IAM auth")
        port = int(str(parts.get("port") or 5432))
        arguments["password"] = iam_auth_token(host, port, user, current.database_iam_auth_region)
        if not parts.get("sslrootcert"):
            arguments["sslrootcert"] = str(RDS_PROXY_TRUST)
    return arguments


def connect(**kwargs: Any) -> psycopg.Connection[Any]:
    """A new connection to DATABASE_URL (an IAM auth token as its password in the cloud)."""
    return psycopg.connect(**connect_arguments(), **kwargs)


def connection() -> Connection:
    """The container's connection, (re)connected when missing or broken."""
    _connection: Connection | None = getattr(_local, "connection", None)
    if _connection is None or _connection.closed or _connection.broken:
        timeout = settings().dependency_timeout_s
        try:
            _connection = psycopg.connect(
                **connect_arguments(),
                autocommit=True,
                row_factory=dict_row,
                connect_timeout=max(1, int(timeout)),
                options=f"-c statement_timeout={int(timeout * 1000)}",
                application_name="dogwalk",
            )
        except psycopg.OperationalError as exc:
            raise Unavailable("the database cannot be reached") from exc
        _local.connection = _connection
    return _connection


def reset() -> None:
    """Forget this thread's connection (after a failure, or between tests)."""
    current: Connection | None = getattr(_local, "connection", None)
    if current is not None:
        current.close()
    _local.connection = None


@contextmanager
def transaction() -> Iterator[Connection]:
    """One database transaction: committed when the block ends, rolled back if it raises.

    A lost connection surfaces as `Unavailable` (503) and is made again by the next call.
    """
    conn = connection()
    try:
        with conn.transaction():
            yield conn
    except psycopg.OperationalError as exc:
        reset()
        raise Unavailable("the database connection failed") from exc


class Pipelined:
    """A transaction whose BEGIN goes out with its first query and whose COMMIT with its last
    statements, each pair in one round trip (`pipelined_transaction`)."""

    def __init__(self, conn: Connection):
        self.conn = conn
        self.committed = False

    def begin(self, query: str, params: Sequence[Any]) -> list[dict[str, Any]]:
        """BEGIN, then `query`'s rows: one round trip."""
        with self.conn.pipeline():
            self.conn.execute("BEGIN")
            cursor = self.conn.execute(query, params)
        return cursor.fetchall()

    def commit(self, statement: str, params_seq: Sequence[Sequence[Any]]) -> None:
        """`statement` for each of `params_seq`, then COMMIT: one round trip."""
        with self.conn.pipeline():
            with self.conn.cursor() as cursor:
                cursor.executemany(statement, params_seq)
            self.conn.execute("COMMIT")
        self.committed = True


@contextmanager
def pipelined_transaction() -> Iterator[Pipelined]:
    """`transaction()` in two round trips fewer, for a block that opens with `begin` and ends with
    `commit` (a queue batch's ingest, where each round trip is a tenth of the time): rolled back if
    the block raises or ends without committing, a lost connection `Unavailable` as there."""
    conn = connection()
    pipelined = Pipelined(conn)
    try:
        yield pipelined
        if not pipelined.committed:
            raise RuntimeError("a pipelined transaction ended without its commit")
    except psycopg.OperationalError as exc:
        reset()
        raise Unavailable("the database connection failed") from exc
    except BaseException:
        if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE and not conn.broken:
            conn.execute("ROLLBACK")
        raise


LOCK_WAIT_QUERY_TIMEOUTS = 3


def lock(conn: Connection, name: str) -> None:
    """Hold the lock called `name` until the transaction ends: writers of one thing take turns.

    Waiting for one's turn is contention, not a fault: it may last LOCK_WAIT_QUERY_TIMEOUTS query
    timeouts, and the statements after it have the connection's own again (one round trip)."""
    timeout_ms = int(settings().dependency_timeout_s * 1000)
    with conn.pipeline():
        conn.execute("SELECT set_config('statement_timeout', %s, true)", (str(LOCK_WAIT_QUERY_TIMEOUTS * timeout_ms),))
        conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (name,))
        conn.execute("SELECT set_config('statement_timeout', %s, true)", (str(timeout_ms),))


def ping() -> None:
    with transaction() as conn:
        conn.execute("SELECT 1")
