"""The messages service's functions: conversations between an owner and a walker, their messages,
reads and blocks."""

from __future__ import annotations

from dogwalk.declarations import ANY_USER, CACHE, DATABASE, EVENTS, OWNER, WALKER, WEBSOCKET_PUSH, Endpoint, Service

SERVICE = Service("messages", tag="Messages", uses=frozenset({DATABASE, CACHE}))

# a conversation's own routes answer its two parties; anyone else, admins included, gets 404 from
# the domain (not 403 by role: no existence leaks)
ENDPOINTS: tuple[Endpoint, ...] = (
    SERVICE.endpoint(
        "start_conversation",
        method="POST",
        path="/v1/conversations",
        status_code=201,
        roles=OWNER,
        summary="Start a conversation with a bookable walker (200 with the one you already have)",
    ),
    SERVICE.endpoint(
        "list_conversations",
        path="/v1/conversations",
        roles=OWNER | WALKER,
        summary="Your conversations, latest activity first, with your unread counts",
    ),
    SERVICE.endpoint(
        "list_messages",
        path="/v1/conversations/{conversation_id}/messages",
        roles=ANY_USER,
        summary="A conversation's messages, newest first, for its two parties",
    ),
    SERVICE.endpoint(
        "send_message",
        method="POST",
        path="/v1/conversations/{conversation_id}/messages",
        status_code=201,
        roles=ANY_USER,
        summary="Send a message; the other party is notified and, when connected, gets it on the WebSocket",
        idempotent=True,
        # the recipient's `message.received` out right after the commit, and the live push
        uses=frozenset({DATABASE, CACHE, EVENTS, WEBSOCKET_PUSH}),
    ),
    SERVICE.endpoint(
        "read_conversation",
        method="POST",
        path="/v1/conversations/{conversation_id}/read",
        status_code=204,
        roles=ANY_USER,
        summary="Mark the conversation read: your unread count back to 0",
    ),
    SERVICE.endpoint(
        "block_conversation",
        method="POST",
        path="/v1/conversations/{conversation_id}/block",
        status_code=204,
        roles=ANY_USER,
        summary="Block the conversation: no more messages either way",
    ),
)
