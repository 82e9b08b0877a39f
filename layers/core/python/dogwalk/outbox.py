"""Domain events into the outbox, in the transaction of the change they describe; the
notifications relay publishes them (at least once; consumers dedupe by the event id)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from dogwalk.db import Connection


def record(conn: Connection, event_type: str, recipient_id: str, recipient_role: str, payload: dict[str, Any]) -> str:
    event_id = str(uuid.uuid4())
    conn.execute(
        "INSERT INTO outbox (id, event_type, recipient_id, recipient_role, payload) VALUES (%s, %s, %s, %s, %s)",
        (event_id, event_type, recipient_id, recipient_role, json.dumps(payload, default=str)),
    )
    return event_id
