"""POST /v1/walkers/me/verification: references to your documents; an admin decides."""

from typing import Literal

from aws_lambda_powertools.event_handler import Response
from pydantic import BaseModel, Field

from dogwalk import walkers
from dogwalk.api import Endpoint
from dogwalk.schemas import Write

endpoint = Endpoint("submit_verification")


class Document(Write):
    kind: Literal["id_document", "background_check"]
    reference: str = Field(min_length=1, max_length=500)


class Submission(Write):
    documents: list[Document] = Field(min_length=1, max_length=10)


class Pending(BaseModel):
    status: Literal["pending"]


@endpoint.handle
def submit_verification(submission: Submission) -> Response[Pending]:
    documents = [document.model_dump() for document in submission.documents]
    status = walkers.submit_verification(endpoint.principal.user_id, documents)
    return Response(status_code=202, body=Pending(status=status), content_type="application/json")  # type: ignore[arg-type]


lambda_handler = endpoint.lambda_handler
