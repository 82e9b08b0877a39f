"""POST /v1/dogs: add one of your dogs."""

from pydantic import Field, StrictBool

from dogwalk.edge.api import Route
from dogwalk.edge.schemas import DogOut, Feeding, IsoDate, MedicalNotes, Size, Vaccinations, Write
from dogwalk.marketplace import dogs

route = Route(__name__)


class NewDog(Write):
    name: str = Field(min_length=1, max_length=100)
    breed: str | None = Field(default=None, max_length=100)
    size: Size
    birth_date: IsoDate | None = None
    notes: str | None = Field(default=None, max_length=2000)
    vaccinated: StrictBool
    medical_notes: MedicalNotes | None = None
    feeding: Feeding | None = None
    vaccinations: Vaccinations = []


@route.handle
def create_dog(dog: NewDog) -> DogOut:
    return DogOut.model_validate(dogs.create(route.principal.user_id, dog.model_dump()))


lambda_handler = route.lambda_handler
