"""Which walker phone may do what over MQTT: the rule of AWS IoT Core's custom authorizer, and of
the local broker, which asks the same functions.

A phone connects with its access token as the password (the username is not checked). The token
must verify as the REST API's do, belong to a walker who is not suspended, and then the phone may
connect as that walker (client id `<user_id>` or `<user_id>-<anything>`) and publish only to
`dogwalk/walks/{walk_id}/location` and `/event` of the walks whose booking is `in_progress`. The
walks are read again at each policy refresh, so a walk that starts or ends is picked up within it.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from dogwalk.adapters import db
from dogwalk.auth import principals
from dogwalk.errors import Forbidden

TOPIC_KINDS = ("location", "event")
_WALK_TOPIC = re.compile(r"dogwalk/walks/([^/]+)/(?:location|event)")

# IoT Core calls the authorizer again after this long (its minimum), so the walks a phone may
# publish to follow the bookings within 5 minutes.
REFRESH_AFTER_S = 300
# IoT Core's bounds on a connection's life; within them, a connection lasts as long as its token.
MIN_CONNECTION_S = 300
MAX_CONNECTION_S = 24 * 3600


@dataclass(frozen=True)
class Grant:
    """What a verified walker's token allows: publishing to these walks, until the token expires."""

    user_id: str
    walk_ids: frozenset[str]
    expires_at: int


@dataclass(frozen=True)
class Account:
    """Where the authorizer runs: the IoT resources it names are in the same partition, region and account."""

    partition: str
    region: str
    account_id: str

    @classmethod
    def of_function(cls, function_arn: str) -> Account:
        """From a Lambda function's ARN, `arn:<partition>:lambda:<region>:<account>:function:<name>[:<alias>]`."""
        parts = function_arn.split(":")
        if len(parts) < 7 or parts[0] != "arn" or parts[2] != "lambda":
            raise ValueError(f"not a Lambda function ARN: {function_arn!r}")
        return cls(parts[1], parts[3], parts[4])


def authorize(token: str) -> Grant:
    """The grant of a walker's access token; Unauthorized (invalid, expired, suspended) or Forbidden (not a walker)."""
    claims = principals.active(token)
    if claims.role != "walker":
        raise Forbidden("Only walkers' phones publish walks.")
    return Grant(claims.user_id, walks_under_way(claims.user_id), claims.expires_at)


def walks_under_way(walker_id: str) -> frozenset[str]:
    """The walker's walks whose booking is in progress."""
    try:
        uuid.UUID(walker_id)
    except ValueError:  # not a user of ours
        return frozenset()
    with db.transaction() as conn:
        rows = conn.execute(
            "SELECT w.id::text AS id FROM walks w JOIN bookings b ON b.id = w.booking_id"
            " WHERE b.walker_id = %s AND b.status = 'in_progress'",
            (walker_id,),
        ).fetchall()
    return frozenset(row["id"] for row in rows)


def may_connect(user_id: str, client_id: str) -> bool:
    """A phone connects as its walker: client id `<user_id>`, or `<user_id>-...` for one of several devices."""
    return client_id == user_id or client_id.startswith(f"{user_id}-")


def walk_topics(walk_id: str) -> list[str]:
    return [f"dogwalk/walks/{walk_id}/{kind}" for kind in TOPIC_KINDS]


def may_publish(allowed_walk_ids: Collection[str], topic: str) -> bool:
    """Whether a phone allowed these walks may publish to `topic` (exact topics, no wildcards)."""
    match = _WALK_TOPIC.fullmatch(topic)
    return match is not None and match.group(1) in allowed_walk_ids


def policy_document(grant: Grant, client_id: str | None, account: Account) -> dict[str, Any]:
    """The IoT policy of a connection: connect as the walker, publish to the walks under way, nothing else."""
    arn = f"arn:{account.partition}:iot:{account.region}:{account.account_id}"
    statements: list[dict[str, Any]] = []
    if client_id and may_connect(grant.user_id, client_id):
        statements.append({"Effect": "Allow", "Action": "iot:Connect", "Resource": f"{arn}:client/{client_id}"})
    topics = [f"{arn}:topic/{topic}" for walk_id in sorted(grant.walk_ids) for topic in walk_topics(walk_id)]
    if topics:
        statements.append({"Effect": "Allow", "Action": "iot:Publish", "Resource": topics})
    if not statements:  # a policy needs a statement; this one allows nothing
        statements.append({"Effect": "Deny", "Action": "iot:*", "Resource": "*"})
    return {"Version": "2012-10-17", "Statement": statements}


def authorizer_answer(grant: Grant, client_id: str | None, account: Account, now: float) -> dict[str, Any]:
    """The custom authorizer's response for an authenticated walker."""
    return {
        "isAuthenticated": True,
        # IoT Core allows only [a-zA-Z0-9]{1,128}: the user id without its hyphens
        "principalId": re.sub(r"[^a-zA-Z0-9]", "", grant.user_id)[:128] or "walker",
        # the connection ends when the token does: the phone reconnects with its next one
        "disconnectAfterInSeconds": min(MAX_CONNECTION_S, max(MIN_CONNECTION_S, grant.expires_at - int(now))),
        "refreshAfterInSeconds": REFRESH_AFTER_S,
        "policyDocuments": [json.dumps(policy_document(grant, client_id, account), separators=(",", ":"))],
    }
