"""DELETE /v1/dogs/{dog_id}: remove one of your dogs (409 while it has an accepted walk coming)."""

from aws_lambda_powertools.event_handler import Response

from dogwalk.edge.api import Route
from dogwalk.marketplace import dogs

route = Route(__name__)


@route.handle
def delete_dog(dog_id: str) -> Response[None]:
    dogs.delete(route.principal.user_id, dog_id)
    return Response(status_code=204)


lambda_handler = route.lambda_handler
