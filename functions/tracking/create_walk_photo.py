"""POST /v1/walks/{walk_id}/photos: the walker of a walk under way uploads a photo straight to
object storage: 201 with the photo's id and an S3 presigned POST (`url` and the form `fields` to
send with the file) whose policy allows exactly this photo's key, the declared content type and at
most `size_bytes` (≤ 10 MiB), for 15 minutes. The photo is `pending` until the photo check has
seen the bytes (`GET /v1/walks/{walk_id}/photos`)."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, StrictInt

from dogwalk.edge.api import Route
from dogwalk.edge.schemas import Write
from dogwalk.tracking import photos

route = Route(__name__)


class PhotoUpload(Write):
    content_type: Literal["image/jpeg", "image/png"]
    size_bytes: StrictInt = Field(ge=1, le=photos.MAX_BYTES, description="The file's size; at most 10 MiB")


class PresignedPost(BaseModel):
    url: str
    fields: dict[str, str]  # send them all, then the file as the last field, `file`


class PhotoUploadOut(BaseModel):
    id: str
    upload: PresignedPost
    expires_at: datetime


@route.handle
def create_walk_photo(walk_id: str, upload: PhotoUpload) -> PhotoUploadOut:
    requested = photos.request_upload(walk_id, route.principal.user_id, upload.content_type, upload.size_bytes)
    return PhotoUploadOut.model_validate(requested)


lambda_handler = route.lambda_handler
