"""`Idempotency-Key` for mutating payment and booking calls, kept in PostgreSQL.

The first request with a key claims it (an INSERT that only one concurrent request can win),
runs, and stores its answer; a retry with the same key and body gets that answer again; the same
key with another body is 409 `idempotency_conflict`, and so is a retry while the first still runs
(never both run). A claim whose request died (no answer after the function's timeout) may be
taken over. A 5xx answer is not kept: the retry runs again. Keys are scoped to the caller and
the endpoint and kept for 24 hours.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from dogwalk.adapters import db
from dogwalk.errors import BadRequest, IdempotencyConflict

MAX_KEY_LENGTH = 255
KEPT_FOR = timedelta(hours=24)


@dataclass(frozen=True)
class Claim:
    user_id: str
    endpoint: str
    key: str


def request_hash(method: str, path: str, body: str | None) -> bytes:
    return hashlib.sha256(json.dumps([method, path, body or ""]).encode()).digest()


def begin(user_id: str, endpoint: str, key: str, fingerprint: bytes, stale_after: timedelta) -> Claim | dict[str, Any]:
    """Claim the key (→ `Claim`: run the request) or the stored answer to replay (→ dict)."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise BadRequest(f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters.")
    with db.transaction() as conn:
        claimed = conn.execute(
            """
            INSERT INTO idempotency_keys (user_id, endpoint, key, request_hash) VALUES (%s, %s, %s, %s)
            ON CONFLICT (user_id, endpoint, key) DO UPDATE
               SET request_hash = EXCLUDED.request_hash, created_at = now(), status_code = NULL, response = NULL
             WHERE idempotency_keys.created_at < now() - %s
                OR (idempotency_keys.status_code IS NULL AND idempotency_keys.created_at < now() - %s
                    AND idempotency_keys.request_hash = EXCLUDED.request_hash)
            RETURNING key
            """,
            (user_id, endpoint, key, fingerprint, KEPT_FOR, stale_after),
        ).fetchone()
        if claimed is not None:
            return Claim(user_id, endpoint, key)
        stored = conn.execute(
            "SELECT request_hash, status_code, response FROM idempotency_keys"
            " WHERE user_id = %s AND endpoint = %s AND key = %s",
            (user_id, endpoint, key),
        ).fetchone()
    if stored is None:  # expired between the two statements: rare, and safe to refuse
        raise IdempotencyConflict("Retry this request.")
    if bytes(stored["request_hash"]) != fingerprint:
        raise IdempotencyConflict("This Idempotency-Key was used with another request.")
    if stored["status_code"] is None:
        raise IdempotencyConflict("A request with this Idempotency-Key is still running.")
    return dict(stored["response"])


def finish(claim: Claim, status_code: int, response: dict[str, Any]) -> None:
    """Keep the answer for retries; a 5xx releases the key so that a retry runs again."""
    with db.transaction() as conn:
        if status_code >= 500:
            conn.execute(
                "DELETE FROM idempotency_keys WHERE user_id = %s AND endpoint = %s AND key = %s",
                (claim.user_id, claim.endpoint, claim.key),
            )
            return
        conn.execute(
            "UPDATE idempotency_keys SET status_code = %s, response = %s"
            " WHERE user_id = %s AND endpoint = %s AND key = %s",
            (status_code, json.dumps(response), claim.user_id, claim.endpoint, claim.key),
        )
