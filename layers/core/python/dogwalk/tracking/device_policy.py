"""Which walker phone may do what over MQTT: the rule of AWS IoT Core's custom authorizer, and of
the local broker, which asks the same functions.

A phone connects with its access token as the password (the username is not checked). The token
must verify as the REST API's do, belong to a walker who is not suspended, and then the phone may
connect as that walker (client id `<user_id>` or `<user_id>-<anything>`) and publish only to
`dogwalk/walks/{walk_id}/location` and `/event` of the walks whose booking is `in_progress`. The
walks are read again at each policy refresh, so a walk that starts or ends is picked up within it.

A stock OwnTracks app connects with its tracker credentials instead (`dogwalk.tracking.trackers`:
the tracker's username as the MQTT username, its password as the password; client id starting
with the username, as OwnTracks' default `<user><device>` does) and may publish only under
`owntracks/<username>/`: its device topic `owntracks/<username>/<device>` (locations, the lwt; the
topic rule `owntracks/+/+` takes them to the ingest) and that topic's subtopics (`/event`,
`/status`, `/waypoint`...: OwnTracks publishes them too, and IoT Core disconnects a client whose
publish its policy refuses; no rule reads them, so they are accepted and ignored). A revoked
credential is refused at the next refresh.
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
from dogwalk.tracking import trackers

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
    # a tracker app's grant: its username, whose `owntracks/<username>/...` topics it may publish to
    tracker: str | None = None


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


def authorize_tracker(username: str, password: str, now: float) -> Grant:
    """The grant of a tracker app's credentials (Unauthorized: wrong, revoked, suspended; RateLimited)."""
    tracker = trackers.verify(username, password)
    return Grant(tracker.walker_id, frozenset(), int(now) + MAX_CONNECTION_S, tracker=tracker.username)


def authorize_mqtt(username: str | None, password: str, now: float) -> Grant:
    """An MQTT connection's grant: a tracker's username with its password, else an access token."""
    looks_like_a_token = password.count(".") == 2  # a JWT; tracker passwords are URL-safe base64, no dots
    if username and trackers.USERNAME.fullmatch(username) and not looks_like_a_token:
        return authorize_tracker(username, password, now)
    return authorize(password)


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


def may_connect_as(grant: Grant, client_id: str) -> bool:
    """A tracker app's client id starts with its username (OwnTracks' default is user and device)."""
    if grant.tracker is not None:
        return len(client_id) <= 128 and client_id.startswith(grant.tracker)
    return may_connect(grant.user_id, client_id)


def may_publish_tracker(username: str, topic: str) -> bool:
    """`owntracks/<username>/<device>` or one of its subtopics (no wildcards, no empty levels)."""
    levels = topic.split("/")
    return (
        bool(username)
        and len(levels) in (3, 4)
        and levels[:2] == ["owntracks", username]
        and all(level and "+" not in level and "#" not in level for level in levels[2:])
    )


def walk_topics(walk_id: str) -> list[str]:
    return [f"dogwalk/walks/{walk_id}/{kind}" for kind in TOPIC_KINDS]


def may_publish(allowed_walk_ids: Collection[str], topic: str, *, tracker: str | None = None) -> bool:
    """Whether a phone allowed these walks (or the tracker app of this username) may publish to
    `topic` (exact topics, no wildcards)."""
    if tracker is not None:
        return may_publish_tracker(tracker, topic)
    match = _WALK_TOPIC.fullmatch(topic)
    return match is not None and match.group(1) in allowed_walk_ids


def policy_document(grant: Grant, client_id: str | None, account: Account) -> dict[str, Any]:
    """The IoT policy of a connection: connect as the walker, publish to the walks under way, nothing else."""
    arn = f"arn:{account.partition}:iot:{account.region}:{account.account_id}"
    statements: list[dict[str, Any]] = []
    if client_id and may_connect_as(grant, client_id):
        statements.append({"Effect": "Allow", "Action": "iot:Connect", "Resource": f"{arn}:client/{client_id}"})
    topics = [f"{arn}:topic/{topic}" for walk_id in sorted(grant.walk_ids) for topic in walk_topics(walk_id)]
    if grant.tracker is not None:  # the device topics and their subtopics (`*` spans levels in a policy)
        topics.append(f"{arn}:topic/owntracks/{grant.tracker}/*")
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
