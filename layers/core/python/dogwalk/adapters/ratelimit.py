"""Sliding-window rate limits in Redis, atomic through one Lua script.

Each limit keeps the times of recent events in a sorted set. `hit` counts an event and says
whether it went over; `check` only says whether the next event would; `forget` takes one back.
Login counts every attempt before verifying the password (so parallel guesses cannot slip past
the limit) and takes back those that turn out not to be failures. What happens when Redis is down is a
property of each limit: unauthenticated, abuse-prone endpoints fail closed (503), the general
per-user limit fails open and counts a metric.
"""

from __future__ import annotations

import math
import time
import uuid
from dataclasses import dataclass

import redis

from dogwalk.adapters import cache
from dogwalk.adapters.observability import logger, metrics
from dogwalk.config import settings
from dogwalk.errors import RateLimited, Unavailable

# KEYS[1] the set; ARGV: now (ms), window (ms), limit, record (1/0), member
_SCRIPT = """
local key, now, window, limit, record = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local count = redis.call('ZCARD', key)
if count >= limit then
  local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  return {0, tonumber(oldest[2]) + window - now}
end
if record == '1' then
  redis.call('ZADD', key, now, ARGV[5])
  redis.call('PEXPIRE', key, window)
end
return {1, 0}
"""


@dataclass(frozen=True)
class Limit:
    name: str
    limit: int
    window_s: int
    fail_open: bool

    def _key(self, subject: str) -> str:
        return f"rl:{self.name}:{subject}"


LOGIN_FAILURES_PER_ACCOUNT = Limit("login-account", 5, 15 * 60, fail_open=False)
LOGIN_FAILURES_PER_IP = Limit("login-ip", 20, 15 * 60, fail_open=False)
REGISTER_PER_IP = Limit("register-ip", settings().register_per_ip_per_hour, 60 * 60, fail_open=False)
REFRESH_PER_FAMILY = Limit("refresh-family", 30, 60 * 60, fail_open=True)
REQUESTS_PER_USER = Limit("user", 300, 60, fail_open=True)

_script: object | None = None


def _run(limit: Limit, subject: str, record: bool, now: float | None) -> str:
    global _script
    client = cache.client()
    if _script is None:
        _script = client.register_script(_SCRIPT)
    now_ms = int((time.time() if now is None else now) * 1000)
    member = f"{now_ms}-{uuid.uuid4().hex}"
    try:
        allowed, retry_ms = _script(  # type: ignore[operator]
            keys=[limit._key(subject)],
            args=[now_ms, limit.window_s * 1000, limit.limit, "1" if record else "0", member],
            client=client,
        )
    except redis.RedisError as exc:
        if limit.fail_open:
            metrics.add_metric(name="RateLimiterFailOpen", unit="Count", value=1)
            logger.warning("rate limiter unavailable; allowing", extra={"limit": limit.name})
            return ""
        raise Unavailable("Rate limiting is unavailable; try again shortly.") from exc
    if not int(allowed):
        raise RateLimited("Too many requests; slow down.", retry_after_s=max(1, math.ceil(int(retry_ms) / 1000)))
    return member


def hit(limit: Limit, subject: str, *, now: float | None = None) -> str:
    """Count one event; `RateLimited` when the window is already full. Returns the event's id."""
    return _run(limit, subject, True, now)


def check(limit: Limit, subject: str, *, now: float | None = None) -> None:
    """`RateLimited` when the window is full, without counting anything."""
    _run(limit, subject, False, now)


def forget(limit: Limit, subject: str, event_id: str) -> None:
    """Take back one counted event (an attempt that turned out not to be a failure)."""
    if not event_id:
        return
    try:
        cache.client().zrem(limit._key(subject), event_id)
    except redis.RedisError:
        logger.warning("could not take back a counted event", extra={"limit": limit.name})


def clear(limit: Limit, subject: str) -> None:
    """Forget the subject's events (a successful login clears its account's failures)."""
    try:
        cache.client().delete(limit._key(subject))
    except redis.RedisError:
        logger.warning("could not clear a rate limit", extra={"limit": limit.name})
