"""GET /v1/walks/{walk_id}/photos: the walk's photos in upload order, for the booking's owner, its
walker or an admin: `pending` (not checked yet), `ready` (with 5-minute links to the clean copy and
its thumbnail; no photo keeps its GPS position or other metadata) or `rejected` (not the declared
image type, not a whole image, or larger than declared)."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from dogwalk.edge.api import Route
from dogwalk.tracking import photos

route = Route(__name__)


class WalkPhoto(BaseModel):
    id: str
    status: Literal["pending", "ready", "rejected"]
    url: str | None  # ready only
    thumbnail_url: str | None
    taken_at: datetime  # when the walker asked to upload it, during the walk


class WalkPhotos(BaseModel):
    items: list[WalkPhoto]
    next_cursor: str | None = None  # a walk keeps at most 60 photos: one page


@route.handle
def list_walk_photos(walk_id: str) -> WalkPhotos:
    caller = route.principal
    found = photos.list_photos(walk_id, caller.user_id, caller.role)
    return WalkPhotos(items=[WalkPhoto.model_validate(item) for item in found])


lambda_handler = route.lambda_handler
