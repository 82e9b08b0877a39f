"""POST /v1/conversations/{conversation_id}/messages: send a message. The other party gets
`message.received` (inbox, push) and, on each open WebSocket connection, `{"type": "message", ...}`.
Honours Idempotency-Key; limited per sender (429)."""

from pydantic import Field

from dogwalk.edge.api import Route
from dogwalk.edge.schemas import MessageOut, Write, message_out
from dogwalk.messages import conversations

route = Route(__name__)


class MessageIn(Write):
    text: str = Field(min_length=1, max_length=2000)
    # a walk photo's id: taken by the schema, refused by `conversations.check_photo` until photos exist
    photo_id: str | None = Field(default=None, min_length=1, max_length=64)


@route.handle
def send_message(conversation_id: str, message: MessageIn) -> MessageOut:
    sent = conversations.send(conversation_id, route.principal.user_id, message.text, message.photo_id)
    answer = message_out(sent.message)
    conversations.tell_recipient(sent, answer.model_dump(mode="json"))
    return answer


lambda_handler = route.lambda_handler
