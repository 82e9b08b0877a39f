"""PATCH /v1/dogs/{dog_id}: change what you send of one of your dogs."""

from typing import Any

from pydantic import Field, StrictBool, model_validator

from dogwalk.edge.api import Route
from dogwalk.edge.schemas import DogOut, Feeding, IsoDate, MedicalNotes, Size, Vaccinations, Write
from dogwalk.marketplace import dogs

route = Route(__name__)


class DogChanges(Write):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    breed: str | None = Field(default=None, max_length=100)
    size: Size | None = None
    birth_date: IsoDate | None = None
    notes: str | None = Field(default=None, max_length=2000)
    vaccinated: StrictBool | None = None
    medical_notes: MedicalNotes | None = None
    feeding: Feeding | None = None
    # [] clears the list; null is refused like the other required fields
    vaccinations: Vaccinations | None = None

    @model_validator(mode="after")
    def required_fields_stay_set(self) -> "DogChanges":
        for name in ("name", "size", "vaccinated", "vaccinations"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


@route.handle
def update_dog(dog_id: str, changes: DogChanges) -> DogOut:
    sent: dict[str, Any] = changes.model_dump(exclude_unset=True)
    return DogOut.model_validate(dogs.update(route.principal.user_id, dog_id, sent))


lambda_handler = route.lambda_handler
