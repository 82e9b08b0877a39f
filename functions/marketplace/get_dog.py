"""GET /v1/dogs/{dog_id}: one of your dogs (anyone else's is not found)."""

from dogwalk.edge.api import Route
from dogwalk.edge.schemas import DogOut
from dogwalk.marketplace import dogs

route = Route(__name__)


@route.handle
def get_dog(dog_id: str) -> DogOut:
    return DogOut.model_validate(dogs.get(route.principal.user_id, dog_id))


lambda_handler = route.lambda_handler
