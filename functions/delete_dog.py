"""DELETE /v1/dogs/{dog_id}: remove one of your dogs (409 while it has an accepted walk coming)."""

from aws_lambda_powertools.event_handler import Response

from dogwalk import dogs
from dogwalk.api import Endpoint

endpoint = Endpoint("delete_dog")


@endpoint.handle
def delete_dog(dog_id: str) -> Response[None]:
    dogs.delete(endpoint.principal.user_id, dog_id)
    return Response(status_code=204)


lambda_handler = endpoint.lambda_handler
