"""The local platform's mailbox: every email the email channel sent while the stage is local, kept
so that `GET /_local/emails?to=` can show what would have reached the recipient (locally SES is
moto's, which keeps only the HTML part). Written by the channel after SES accepted the message, so
it is exactly what went out; never written with any other stage.

A Redis list, newest first, capped and expiring: a developer's inbox, not a record. Best effort:
a Redis failure loses the local copy, never the email.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import redis

from dogwalk.adapters import cache
from dogwalk.adapters.observability import logger
from dogwalk.config import settings

KEY = "local:mailbox"
KEEP = 500
KEEP_S = 7 * 24 * 3600


def keep(to: str, subject: str, text: str, html: str, *, sent_at: datetime | None = None) -> None:
    """Keep a sent email, when the platform runs locally."""
    if settings().stage != "local":
        return
    message = {"to": to, "subject": subject, "text": text, "html": html,
               "sent_at": (sent_at or datetime.now(UTC)).isoformat()}  # fmt: skip
    try:
        pipe = cache.client().pipeline()
        pipe.lpush(KEY, json.dumps(message))
        pipe.ltrim(KEY, 0, KEEP - 1)
        pipe.expire(KEY, KEEP_S)
        pipe.execute()
    except redis.RedisError:
        logger.warning("could not keep the email in the local mailbox")


def read(to: str | None = None) -> list[dict[str, Any]]:
    """The kept emails, newest first; only those to `to` (any case) when it is given."""
    messages = [json.loads(raw) for raw in cache.client().lrange(KEY, 0, KEEP - 1)]
    if to:
        messages = [message for message in messages if message["to"].lower() == to.strip().lower()]
    return messages
