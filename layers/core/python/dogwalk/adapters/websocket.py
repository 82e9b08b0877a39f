"""The WebSocket API's connections (API Gateway WebSocket API; locally the platform's): who holds
each one and each user's open ones, remembered in Redis for the 2 hours API Gateway keeps a
connection at most, and pushing one message to one connection through the API Gateway Management
API (`post_to_connection`). A connection that is gone (410) is forgotten.

Below the services: the live view (`dogwalk.tracking.live`, which adds walk subscriptions) and
the messages service (which pushes to a user's every connection) share it without importing each
other.
"""

from __future__ import annotations

import json
from typing import Any

from dogwalk.adapters import cache
from dogwalk.config import settings

CONNECTION_TTL_S = 2 * 3600  # API Gateway closes a WebSocket connection after 2 hours


def connection_key(connection_id: str) -> str:
    return f"ws:conn:{connection_id}"


def _user_key(user_id: str) -> str:
    return f"ws:user:{user_id}"


def remember(connection_id: str, user_id: str, role: str) -> None:
    """The connection and its holder, and the connection among the holder's open ones."""
    # one transaction: a key written without its expiry would outlive the connection for ever
    pipe = cache.client().pipeline()
    pipe.hset(connection_key(connection_id), mapping={"user_id": user_id, "role": role})
    pipe.expire(connection_key(connection_id), CONNECTION_TTL_S)
    pipe.sadd(_user_key(user_id), connection_id)
    pipe.expire(_user_key(user_id), CONNECTION_TTL_S)  # as long as the newest connection lives
    pipe.execute()


def holder(connection_id: str) -> dict[str, str] | None:
    """Who holds the connection (`user_id`, `role`); None for one we do not know (closed, or expired)."""
    found: dict[str, str] = cache.client().hgetall(connection_key(connection_id))  # type: ignore[assignment]
    return found or None


def forget(connection_id: str) -> None:
    """The connection and its place among its holder's; what else hangs on it is its owner's to drop."""
    held = holder(connection_id)
    pipe = cache.client().pipeline()
    if held is not None:
        pipe.srem(_user_key(held["user_id"]), connection_id)
    pipe.delete(connection_key(connection_id))
    pipe.execute()


def open_connections(user_id: str) -> list[str]:
    """The user's connections that are still known; those that expired without a $disconnect are
    dropped from the user's set on the way."""
    client = cache.client()
    members: set[str] = client.smembers(_user_key(user_id))  # type: ignore[assignment]
    if not members:
        return []
    ordered = sorted(members)
    pipe = client.pipeline()
    for connection_id in ordered:
        pipe.exists(connection_key(connection_id))
    alive = pipe.execute()
    expired = [connection_id for connection_id, known in zip(ordered, alive, strict=True) if not known]
    if expired:
        client.srem(_user_key(user_id), *expired)
    return [connection_id for connection_id, known in zip(ordered, alive, strict=True) if known]


def can_push() -> bool:
    """Whether the platform has a WebSocket API to push through (none: nothing is pushed)."""
    return bool(settings().websocket_management_url)


def _management() -> Any:
    from dogwalk.adapters import aws

    return aws.endpoint_client("apigatewaymanagementapi", settings().websocket_management_url)


def post(connection_id: str, message: dict[str, Any]) -> bool:
    """Push one message to one connection; False when it is gone (and then forgotten here) or when
    there is no WebSocket API to push through. Other refusals (403, 413, throttling) raise
    botocore's ClientError; an unreachable endpoint raises too."""
    if not can_push():
        return False
    client = _management()
    try:
        client.post_to_connection(ConnectionId=connection_id, Data=json.dumps(message).encode())
    except client.exceptions.GoneException:
        forget(connection_id)
        return False
    return True
