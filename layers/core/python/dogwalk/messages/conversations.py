"""Conversations between an owner and a walker: one per pair, started by the owner with a bookable
walker (a walker only answers); their messages, newest first; each party's unread count; a block by
either party, after which nobody sends (403 `blocked`). Only the two parties see a conversation:
anyone else, admins included, is told it does not exist.

Sending is limited per sender in Redis (30 a minute, 500 a day) and refused while Redis cannot
count (503): spam is what the limit is for. The message, the conversation's activity and unread
count and the recipient's `message.received` event (ids only: the text never leaves through the
notification channels) are one transaction; the recipient's open WebSocket connections get the
message right after the commit, best effort.

Messages are kept; when an account is deleted its texts are blanked (`erase_user`), the rows stay
so that the other party's thread still reads in order.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from dogwalk.adapters import db, ratelimit, websocket
from dogwalk.adapters.observability import logger
from dogwalk.adapters.pagination import Page, decode_cursor, identifier, instant, page
from dogwalk.adapters.ratelimit import Limit
from dogwalk.errors import Blocked, NotFound, ValidationFailed, require_id
from dogwalk.events import outbox

SENDS_PER_MINUTE = Limit("messages-minute", 30, 60, fail_open=False)
SENDS_PER_DAY = Limit("messages-day", 500, 24 * 3600, fail_open=False)

# the caller's view of a conversation: `%(caller)s` is one of its parties
_CONVERSATION = """
    SELECT c.id::text, c.owner_id::text, c.walker_id::text, c.last_message_at, c.activity_at,
           CASE WHEN c.owner_id = %(caller)s THEN c.owner_unread ELSE c.walker_unread END AS unread
      FROM conversations c
"""
_MESSAGE = "SELECT id::text, sender_id::text, text, photo_id::text, created_at AS sent_at FROM messages"


def _bookable_walker(conn: db.Connection, walker_id: str) -> bool:
    """The marketplace's rule (`walkers.fit`'s `bookable`): verified, not suspended, not deleted."""
    found = conn.execute(
        "SELECT 1 FROM walker_profiles p JOIN users u ON u.id = p.user_id WHERE p.user_id = %s"
        " AND p.verification = 'verified' AND u.suspended_at IS NULL AND u.deleted_at IS NULL",
        (walker_id,),
    ).fetchone()
    return found is not None


def start(owner_id: str, walker_id: str) -> tuple[dict[str, Any], bool]:
    """The owner's conversation with the walker, and whether it was made now (False: it existed).
    NotFound for a walker who is not bookable (or not a walker). Concurrent first starts make one
    conversation: the pair is unique, the loser reads the winner's."""
    require_id(walker_id, "walker")
    with db.transaction() as conn:
        existing = _of_pair(conn, owner_id, walker_id)
        if existing is not None:
            return existing, False
        if not _bookable_walker(conn, walker_id):
            raise NotFound("No such walker.")
        made = conn.execute(
            "INSERT INTO conversations (id, owner_id, walker_id) VALUES (%s, %s, %s)"
            " ON CONFLICT (owner_id, walker_id) DO NOTHING RETURNING id",
            (str(uuid.uuid4()), owner_id, walker_id),
        ).fetchone()
        found = _of_pair(conn, owner_id, walker_id)
    if found is None:  # unreachable: the pair's row was just written or met
        raise NotFound("No such walker.")
    return found, made is not None


def _of_pair(conn: db.Connection, owner_id: str, walker_id: str) -> dict[str, Any] | None:
    return conn.execute(
        _CONVERSATION + " WHERE c.owner_id = %(caller)s AND c.walker_id = %(walker)s",
        {"caller": owner_id, "walker": walker_id},
    ).fetchone()


def list_for(caller_id: str, caller_role: str, limit: int, cursor: str | None) -> Page:
    """The caller's conversations (as owner or as walker), latest activity first."""
    party = "c.owner_id" if caller_role == "owner" else "c.walker_id"
    after = decode_cursor(cursor, instant, identifier)
    with db.transaction() as conn:
        found = conn.execute(
            _CONVERSATION  # nosec B608 - `party` is one of two column names
            + f" WHERE {party} = %(caller)s AND (%(at)s::timestamptz IS NULL"
            " OR (c.activity_at, c.id) < (%(at)s::timestamptz, %(after_id)s::uuid))"
            " ORDER BY c.activity_at DESC, c.id DESC LIMIT %(limit)s",
            {"caller": caller_id, "at": after and after[0], "after_id": after and after[1], "limit": limit + 1},
        ).fetchall()
    return page(found, limit, lambda row: [row["activity_at"].isoformat(), row["id"]])


def _party_of(conn: db.Connection, conversation_id: str, caller_id: str, *, lock: bool = False) -> dict[str, Any]:
    """The conversation's row if the caller is one of its parties; NotFound otherwise."""
    require_id(conversation_id, "conversation")
    query = (
        "SELECT id::text, owner_id::text, walker_id::text, blocked_at FROM conversations"
        " WHERE id = %s AND %s IN (owner_id, walker_id)"
    )
    row: dict[str, Any] | None = conn.execute(query + (" FOR UPDATE" if lock else ""),
                                              (conversation_id, caller_id)).fetchone()  # fmt: skip
    if row is None:
        raise NotFound("No such conversation.")
    return row


def messages_page(conversation_id: str, caller_id: str, limit: int, cursor: str | None) -> Page:
    """The conversation's messages, newest first, a page at a time."""
    after = decode_cursor(cursor, instant, identifier)
    with db.transaction() as conn:
        _party_of(conn, conversation_id, caller_id)
        found = conn.execute(
            _MESSAGE + " WHERE conversation_id = %(conversation)s AND (%(at)s::timestamptz IS NULL"
            " OR (created_at, id) < (%(at)s::timestamptz, %(after_id)s::uuid))"
            " ORDER BY created_at DESC, messages.id DESC LIMIT %(limit)s",
            {"conversation": conversation_id, "at": after and after[0], "after_id": after and after[1],
             "limit": limit + 1},
        ).fetchall()  # fmt: skip
    return page(found, limit, lambda row: [row["sent_at"].isoformat(), row["id"]])


def check_photo(photo_id: str | None) -> None:
    """The one place a message's photo is checked: walk photos do not exist yet, so none is taken.
    Once they do: the photo must be `ready` and belong to a walk of this owner and walker."""
    if photo_id is not None:
        raise ValidationFailed(
            "Photos cannot be attached to messages yet.",
            errors=[{"loc": ["body", "photo_id"], "msg": "photos in messages are not available yet"}],
        )


@dataclass(frozen=True)
class Sent:
    conversation_id: str
    recipient_id: str
    message: dict[str, Any]  # id, sender_id, text, photo_id, sent_at


def _count_send(sender_id: str, counted: list[tuple[Limit, str]]) -> None:
    """Count the send against both limits, into `counted` (429 over either; 503 when Redis cannot count)."""
    for limit in (SENDS_PER_MINUTE, SENDS_PER_DAY):
        counted.append((limit, ratelimit.hit(limit, sender_id)))


def send(conversation_id: str, sender_id: str, text: str, photo_id: str | None = None) -> Sent:
    """Send a message in the conversation (see the module's docstring). NotFound for someone not
    of it; Blocked once either party blocked it; a refused send does not count against the limits.
    The conversation's row stays locked from the checks to the commit: its messages are in order."""
    counted: list[tuple[Limit, str]] = []
    try:
        with db.transaction() as conn:
            conversation = _party_of(conn, conversation_id, sender_id, lock=True)
            if conversation["blocked_at"] is not None:
                raise Blocked("This conversation is blocked: no more messages can be sent in it.")
            check_photo(photo_id)
            _count_send(sender_id, counted)
            by_owner = sender_id == conversation["owner_id"]
            recipient_id = conversation["walker_id"] if by_owner else conversation["owner_id"]
            message: dict[str, Any] = conn.execute(  # type: ignore[assignment]  # RETURNING answers a row
                "INSERT INTO messages (id, conversation_id, sender_id, text, photo_id) VALUES (%s, %s, %s, %s, %s)"
                " RETURNING id::text, sender_id::text, text, photo_id::text, created_at AS sent_at",
                (str(uuid.uuid4()), conversation_id, sender_id, text, photo_id),
            ).fetchone()
            unread = "walker_unread" if by_owner else "owner_unread"
            conn.execute(
                f"UPDATE conversations SET last_message_at = %s, activity_at = %s, {unread} = {unread} + 1"  # noqa: S608  # nosec B608
                " WHERE id = %s",
                (message["sent_at"], message["sent_at"], conversation_id),
            )
            outbox.record(conn, "message.received", recipient_id, "walker" if by_owner else "owner",
                          {"conversation_id": conversation_id, "message_id": message["id"],
                           "sender_id": sender_id})  # fmt: skip
    except BaseException:
        for limit, event_id in counted:
            ratelimit.forget(limit, sender_id, event_id)
        raise
    return Sent(conversation_id, recipient_id, message)


def tell_recipient(sent: Sent, message: dict[str, Any]) -> int:
    """Push `{"type": "message", "conversation_id", "message"}` (the message as the API answers
    it) to each of the recipient's open WebSocket connections, whether or not it watches a walk;
    how many got it. Never raises: the message is stored, the push is best effort."""
    if not websocket.can_push():
        return 0
    from botocore.exceptions import ClientError

    pushed = {"type": "message", "conversation_id": sent.conversation_id, "message": message}
    delivered = 0
    try:
        for connection_id in websocket.open_connections(sent.recipient_id):
            try:
                delivered += websocket.post(connection_id, pushed)
            except ClientError:
                logger.exception("message push refused", extra={"connection_id": connection_id})
    except Exception:  # the message is stored; the live push is best effort
        logger.exception("message push failed", extra={"conversation_id": sent.conversation_id})
    return delivered


def mark_read(conversation_id: str, caller_id: str) -> None:
    """The caller's unread count back to 0."""
    with db.transaction() as conn:
        conversation = _party_of(conn, conversation_id, caller_id)
        unread = "owner_unread" if caller_id == conversation["owner_id"] else "walker_unread"
        conn.execute(f"UPDATE conversations SET {unread} = 0 WHERE id = %s", (conversation_id,))  # noqa: S608  # nosec B608 - one of two column names


def block(conversation_id: str, caller_id: str) -> None:
    """No more messages either way; blocking again keeps the first block."""
    with db.transaction() as conn:
        _party_of(conn, conversation_id, caller_id, lock=True)
        conn.execute(
            "UPDATE conversations SET blocked_at = now(), blocked_by = %s WHERE id = %s AND blocked_at IS NULL",
            (caller_id, conversation_id),
        )


def erase_user(conn: db.Connection, user_id: str) -> int:
    """In the account deletion's transaction: the texts the user wrote blanked and marked erased
    (the rows stay, for the other party's thread); how many."""
    erased = conn.execute(
        "UPDATE messages SET text = '', photo_id = NULL, erased = true WHERE sender_id = %s AND NOT erased",
        (user_id,),
    )
    return erased.rowcount
