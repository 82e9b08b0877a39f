"""POST /v1/dogs: add one of your dogs."""

from pydantic import Field, StrictBool

from dogwalk import dogs
from dogwalk.api import Endpoint
from dogwalk.schemas import DogOut, IsoDate, Size, Write

endpoint = Endpoint("create_dog")


class NewDog(Write):
    name: str = Field(min_length=1, max_length=100)
    breed: str | None = Field(default=None, max_length=100)
    size: Size
    birth_date: IsoDate | None = None
    notes: str | None = Field(default=None, max_length=2000)
    vaccinated: StrictBool


@endpoint.handle
def create_dog(dog: NewDog) -> DogOut:
    return DogOut.model_validate(dogs.create(endpoint.principal.user_id, dog.model_dump()))


lambda_handler = endpoint.lambda_handler
