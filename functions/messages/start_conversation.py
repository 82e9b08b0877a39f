"""POST /v1/conversations: the owner starts a conversation with a bookable walker; 201, or 200
with the conversation the pair already has."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from pydantic import StringConstraints

from dogwalk.edge.api import Route
from dogwalk.edge.schemas import ConversationOut, Write
from dogwalk.messages import conversations

route = Route(__name__)


class ConversationIn(Write):
    walker_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]


@route.handle(responses={200: ConversationOut})
def start_conversation(conversation: ConversationIn) -> Response[ConversationOut]:
    found, created = conversations.start(route.principal.user_id, conversation.walker_id)
    return Response(status_code=201 if created else 200, body=ConversationOut.model_validate(found),
                    content_type="application/json")  # fmt: skip


lambda_handler = route.lambda_handler
