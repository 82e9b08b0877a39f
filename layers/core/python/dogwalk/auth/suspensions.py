"""Whether a caller is suspended, answered cheaply on every authenticated request.

Suspending writes `suspended_at` (the truth) and a Redis marker that lives as long as an access
token can: tokens issued before the suspension are refused from the next request, and no new
ones can be issued (login and refresh read the database). When Redis cannot answer, the
database does. A deleted account is locked out the same way, by the same marker.
"""

from __future__ import annotations

import redis

from dogwalk.adapters import cache, db
from dogwalk.adapters.observability import logger, metrics
from dogwalk.config import settings

_LEEWAY_S = 60


def _key(user_id: str) -> str:
    return f"suspended:{user_id}"


def mark(user_id: str) -> None:
    try:
        cache.client().set(_key(user_id), "1", ex=settings().access_token_ttl_s + _LEEWAY_S)
    except redis.RedisError:
        # the database already says so; live access tokens then run out within their 15 minutes
        metrics.add_metric(name="SuspensionMarkerFailed", unit="Count", value=1)
        logger.error("could not write the suspension marker", extra={"user_id": user_id})


def is_suspended(user_id: str) -> bool:
    try:
        return bool(cache.client().exists(_key(user_id)))
    except redis.RedisError:
        metrics.add_metric(name="SuspensionCheckFromDatabase", unit="Count", value=1)
        with db.transaction() as conn:
            row = conn.execute(
                "SELECT suspended_at IS NOT NULL OR deleted_at IS NOT NULL AS locked_out"
                " FROM users WHERE id::text = %s",
                (user_id,),
            ).fetchone()
        return row is not None and bool(row["locked_out"])
