"""The live view's subscriptions and pushes. A WebSocket connection (API Gateway WebSocket API;
locally the platform's) is remembered in Redis with its user (`dogwalk.adapters.websocket`, which
the messages service pushes through too), for the 2 hours API Gateway keeps a connection at most;
subscribing to a walk adds it to the walk's set. Ingest and completion push
to the walk's subscribers through the API Gateway Management API (`post_to_connection`); a
connection that is gone (410) is forgotten. Pushing is best effort: the points are stored
whatever happens here.

Who may watch a walk: its booking's owner, its walker, an admin; anyone else is told the walk
does not exist, as the REST API tells them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from dogwalk.adapters import cache, db, websocket
from dogwalk.adapters.observability import logger
from dogwalk.adapters.websocket import CONNECTION_TTL_S
from dogwalk.auth import suspensions
from dogwalk.config import settings
from dogwalk.errors import NotFound, Unauthorized, require_id


def _connection_key(connection_id: str) -> str:
    return websocket.connection_key(connection_id)


def _walk_key(walk_id: str) -> str:
    return f"ws:walk:{walk_id}"


def connect(connection_id: str, user_id: str, role: str) -> None:
    websocket.remember(connection_id, user_id, role)


def connection(connection_id: str) -> dict[str, str] | None:
    """Who holds the connection; None for one we do not know (closed, or expired)."""
    return websocket.holder(connection_id)


def subscribe(connection_id: str, walk_id: str) -> None:
    pipe = cache.client().pipeline()
    pipe.sadd(_walk_key(walk_id), connection_id)
    pipe.expire(_walk_key(walk_id), CONNECTION_TTL_S)
    pipe.sadd(f"{_connection_key(connection_id)}:walks", walk_id)
    pipe.expire(f"{_connection_key(connection_id)}:walks", CONNECTION_TTL_S)
    pipe.execute()


def disconnect(connection_id: str) -> None:
    walks: set[str] = cache.client().smembers(f"{_connection_key(connection_id)}:walks")  # type: ignore[assignment]
    pipe = cache.client().pipeline()
    for walk_id in walks:
        pipe.srem(_walk_key(walk_id), connection_id)
    pipe.delete(f"{_connection_key(connection_id)}:walks")
    pipe.execute()
    websocket.forget(connection_id)


def subscribers(walk_id: str) -> set[str]:
    return cache.client().smembers(_walk_key(walk_id))  # type: ignore[return-value]


def send(connection_id: str, message: dict[str, Any]) -> bool:
    """Push one message to one connection; False (and the connection forgotten) if it is gone, or
    when the platform has no WebSocket API to push through (nothing is pushed then)."""
    if not websocket.can_push():
        return False
    if websocket.post(connection_id, message):
        return True
    disconnect(connection_id)
    return False


def watched(walk_ids: Iterable[str]) -> dict[str, set[str]]:
    """The walks of `walk_ids` someone watches, with their subscribers, in one Redis round trip
    (a queue batch holds many walks, most watched by nobody: their messages need not be made).
    Empty when the platform has no WebSocket API to push through; never raises (a Redis that
    cannot say is logged, and nothing is pushed: the points are stored all the same)."""
    ids = list(walk_ids)
    if not ids or not websocket.can_push():
        return {}
    try:
        pipe = cache.client().pipeline(transaction=False)
        for walk_id in ids:
            pipe.smembers(_walk_key(walk_id))
        return {walk_id: members for walk_id, members in zip(ids, pipe.execute(), strict=True) if members}
    except Exception:
        logger.exception("live subscribers unknown; nothing pushed")
        return {}


def publish(walk_id: str, messages: list[dict[str, Any]], to: set[str] | None = None) -> int:
    """Push `messages`, in order, to every subscriber of the walk (or to the connections `to`, as
    `watched` found them); how many deliveries were made.
    Never raises: a failure is logged and the ingest goes on. A connection the management API
    refuses (403, 413, throttled) costs only its own pushes; an endpoint that cannot be reached
    ends the round, since every other connection would wait for it too."""
    if not messages or not settings().websocket_management_url:
        return 0
    from botocore.exceptions import ClientError

    delivered = 0
    try:
        for connection_id in subscribers(walk_id) if to is None else to:
            try:
                for message in messages:
                    if not send(connection_id, message):
                        break
                    delivered += 1
            except ClientError:
                logger.exception("live push refused", extra={"walk_id": walk_id, "connection_id": connection_id})
    except Exception:  # the points are stored; the live view is best effort
        logger.exception("live push failed", extra={"walk_id": walk_id})
    return delivered


def position(walk_id: str, lat: float, lon: float, ts: datetime) -> dict[str, Any]:
    """A `position` message, as `tracking.live_messages` makes them."""
    return {"type": "position", "walk_id": walk_id, "lat": lat, "lon": lon, "tst": int(ts.timestamp())}


def error(code: str, detail: str, errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """What a connection is told when its message is refused (only that connection)."""
    message: dict[str, Any] = {"type": "error", "code": code, "detail": detail}
    if errors:
        message["errors"] = errors
    return message


def watch(connection_id: str, walk_id: str) -> list[dict[str, Any]]:
    """Subscribe the connection to the walk if its holder may see it; the messages that bring the
    connection up to date: `subscribed`, the last position (a late subscriber sees where the dog
    is) and `walk_completed` when the walk is over. NotFound: no such walk, or not the holder's;
    Unauthorized: a connection we do not know (expired: connect again) or a suspended holder.

    Subscribed before the last position is read: a point arriving meanwhile may come twice (as a
    push and as the snapshot) but is never missed; positions are keyed by `tst`."""
    require_id(walk_id, "walk")
    holder = connection(connection_id)
    if holder is None:
        raise Unauthorized("This connection is not known (expired?): connect again.")
    if suspensions.is_suspended(holder["user_id"]):
        raise Unauthorized("This account is suspended.", code="account_suspended")
    with db.transaction() as conn:
        visible = conn.execute(
            "SELECT 1 FROM walks w JOIN bookings b ON b.id = w.booking_id"
            " WHERE w.id = %s AND (%s OR %s IN (b.owner_id::text, b.walker_id::text))",
            (walk_id, holder.get("role") == "admin", holder["user_id"]),
        ).fetchone()
    if visible is None:
        raise NotFound("No such walk.")
    subscribe(connection_id, walk_id)
    with db.transaction() as conn:
        walk = conn.execute(
            "SELECT ended_at, last_ts, last_lat, last_lon FROM walks WHERE id = %s", (walk_id,)
        ).fetchone()
    messages: list[dict[str, Any]] = [{"type": "subscribed", "walk_id": walk_id}]
    if walk is not None and walk["last_ts"] is not None:
        messages.append(position(walk_id, walk["last_lat"], walk["last_lon"], walk["last_ts"]))
    if walk is not None and walk["ended_at"] is not None:
        messages.append({"type": "walk_completed", "walk_id": walk_id})
    return messages


def walk_completed(booking_id: str) -> int:
    """Tell the watchers of the booking's walk that it is over; best effort, like `publish`."""
    if not settings().websocket_management_url:
        return 0
    try:
        with db.transaction() as conn:
            walk = conn.execute("SELECT id::text AS id FROM walks WHERE booking_id = %s", (booking_id,)).fetchone()
    except Exception:  # the walk is completed and paid for; only the live view misses it
        logger.exception("live push failed", extra={"booking_id": booking_id})
        return 0
    if walk is None:
        return 0
    return publish(walk["id"], [{"type": "walk_completed", "walk_id": walk["id"]}])
