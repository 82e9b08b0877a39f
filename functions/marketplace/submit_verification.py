"""POST /v1/walkers/me/verification: references to your documents; an admin decides."""

from typing import Literal

from aws_lambda_powertools.event_handler import Response
from pydantic import BaseModel, Field

from dogwalk.edge.api import Route
from dogwalk.edge.schemas import Write
from dogwalk.marketplace import walkers

route = Route(__name__)


class Document(Write):
    kind: Literal["id_document", "background_check"]
    reference: str = Field(min_length=1, max_length=500)


class Submission(Write):
    documents: list[Document] = Field(min_length=1, max_length=10)


class Pending(BaseModel):
    status: Literal["pending"]


@route.handle
def submit_verification(submission: Submission) -> Response[Pending]:
    documents = [document.model_dump() for document in submission.documents]
    status = walkers.submit_verification(route.principal.user_id, documents)
    return Response(status_code=202, body=Pending(status=status), content_type="application/json")  # type: ignore[arg-type]


lambda_handler = route.lambda_handler
