"""GET /v1/dogs/{dog_id}: one of your dogs (anyone else's is not found)."""

from dogwalk import dogs
from dogwalk.api import Endpoint
from dogwalk.schemas import DogOut

endpoint = Endpoint("get_dog")


@endpoint.handle
def get_dog(dog_id: str) -> DogOut:
    return DogOut.model_validate(dogs.get(endpoint.principal.user_id, dog_id))


lambda_handler = endpoint.lambda_handler
