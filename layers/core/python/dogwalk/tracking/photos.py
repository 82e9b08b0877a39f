"""Walk photos: the walker uploads straight to object storage (an S3 presigned POST whose policy
fixes the key, the content type and the size), the bucket's object-created notification reaches
the photo check through a queue, and the check keeps a clean copy and a thumbnail or rejects it.

Keys: the upload at `walks/<walk>/<photo>` (the only prefix the bucket notifies about; it carries
the phone's metadata and is deleted once checked), the checked copy at `photos/<walk>/<photo>`
and its thumbnail at `thumbnails/<walk>/<photo>`. A photo is `pending` until checked, then
`ready` or `rejected` (with a reason); the check is idempotent (a redelivered notification finds
the photo decided and only makes sure the upload is gone).
"""

from __future__ import annotations

import base64
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from dogwalk.adapters import aws, db
from dogwalk.adapters.observability import logger
from dogwalk.config import settings
from dogwalk.errors import InvalidState, NotFound, require_id
from dogwalk.tracking import images, ingest

MAX_BYTES = 10 * 1024 * 1024  # 10 MiB
CONTENT_TYPES = ("image/jpeg", "image/png")
UPLOAD_WITHIN = timedelta(minutes=15)  # the presigned POST's life
LINKS_LIVE_S = 300  # GET links in the list: short, the app asks again
MAX_PER_WALK = 60
CARD_PHOTOS = 4
_UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
UPLOAD_KEY = re.compile(rf"^walks/({_UUID})/({_UUID})$")


def upload_key(walk_id: str, photo_id: str) -> str:
    return f"walks/{walk_id}/{photo_id}"


def photo_key(walk_id: str, photo_id: str) -> str:
    return f"photos/{walk_id}/{photo_id}"


def thumbnail_key(walk_id: str, photo_id: str) -> str:
    return f"thumbnails/{walk_id}/{photo_id}"


def request_upload(
    walk_id: str, walker_id: str, content_type: str, size_bytes: int, *, now: datetime | None = None
) -> dict[str, Any]:
    """A pending photo of the walker's walk under way, and the presigned POST that uploads it: the
    policy allows exactly its key, its content type and at most `size_bytes` bytes, for 15 minutes.
    Not the walker's walk: 404; not under way, or the walk has its 60 photos: 409."""
    moment = now or datetime.now(UTC)
    ingest.require_walkers_walk(walk_id, walker_id)
    photo_id = str(uuid.uuid4())
    with db.transaction() as conn:
        conn.execute("SELECT id FROM walks WHERE id = %s FOR UPDATE", (walk_id,))  # one count at a time
        count = conn.execute("SELECT count(*) AS n FROM walk_photos WHERE walk_id = %s", (walk_id,)).fetchone()
        if count is not None and count["n"] >= MAX_PER_WALK:
            raise InvalidState(f"A walk keeps at most {MAX_PER_WALK} photos.")
        conn.execute(
            "INSERT INTO walk_photos (id, walk_id, content_type, size_bytes, created_at) VALUES (%s, %s, %s, %s, %s)",
            (photo_id, walk_id, content_type, size_bytes, moment),
        )
    key = upload_key(walk_id, photo_id)
    post = aws.s3().generate_presigned_post(
        Bucket=settings().photos_bucket,
        Key=key,  # botocore adds the exact `key` and `bucket` conditions
        Fields={"Content-Type": content_type},
        Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, size_bytes]],
        ExpiresIn=int(UPLOAD_WITHIN.total_seconds()),
    )
    return {"id": photo_id, "upload": {"url": post["url"], "fields": post["fields"]},
            "expires_at": moment + UPLOAD_WITHIN}  # fmt: skip


def list_photos(walk_id: str, caller_id: str, caller_role: str) -> list[dict[str, Any]]:
    """The walk's photos in upload order, for the booking's owner, its walker or an admin; a ready
    one with GET links to its clean copy and its thumbnail that live 5 minutes."""
    require_id(walk_id, "walk")
    with db.transaction() as conn:
        visible = conn.execute(
            "SELECT w.id FROM walks w JOIN bookings b ON b.id = w.booking_id"
            " WHERE w.id = %s AND (%s OR %s IN (b.owner_id, b.walker_id))",
            (walk_id, caller_role == "admin", caller_id),
        ).fetchone()
        if visible is None:
            raise NotFound("No such walk.")
        found = conn.execute(
            "SELECT id::text, status, created_at AS taken_at FROM walk_photos WHERE walk_id = %s"
            " ORDER BY created_at, id",
            (walk_id,),
        ).fetchall()
    s3 = aws.s3() if any(row["status"] == "ready" for row in found) else None
    items = []
    for row in found:
        item = {"id": row["id"], "status": row["status"], "taken_at": row["taken_at"], "url": None,
                "thumbnail_url": None}  # fmt: skip
        if s3 is not None and row["status"] == "ready":
            item["url"] = _link(s3, photo_key(walk_id, row["id"]))
            item["thumbnail_url"] = _link(s3, thumbnail_key(walk_id, row["id"]))
        items.append(item)
    return items


def _link(s3: Any, key: str) -> str:
    return str(s3.generate_presigned_url("get_object", Params={"Bucket": settings().photos_bucket, "Key": key},
                                         ExpiresIn=LINKS_LIVE_S))  # fmt: skip


def card_thumbnails(walk_id: str) -> list[str]:
    """Up to 4 of the walk's ready thumbnails as data: URIs, for the report card (which then
    needs nothing from the network); one that cannot be read is left out, not the card."""
    with db.transaction() as conn:
        ready = conn.execute(
            "SELECT id::text FROM walk_photos WHERE walk_id = %s AND status = 'ready' ORDER BY created_at, id LIMIT %s",
            (walk_id, CARD_PHOTOS),
        ).fetchall()
    if not ready:
        return []
    s3 = aws.s3()
    uris = []
    for row in ready:
        try:
            body = s3.get_object(Bucket=settings().photos_bucket, Key=thumbnail_key(walk_id, row["id"]))["Body"]
            uris.append("data:image/jpeg;base64," + base64.b64encode(body.read()).decode("ascii"))
        except Exception:  # the card is still worth drawing without it
            logger.exception("a walk thumbnail could not be read", extra={"walk_id": walk_id, "photo_id": row["id"]})
    return uris


def check_upload(bucket: str, key: str) -> str:
    """Decide the photo uploaded at `key`: `ready` (clean copy and thumbnail stored), `rejected`,
    `done` (decided before: a redelivery), or `ignored` (not a photo upload we asked for). The
    upload itself is deleted in every case but `ignored`: it may carry the phone's GPS position."""
    matched = UPLOAD_KEY.match(key) if bucket == settings().photos_bucket else None
    if matched is None:
        logger.warning("an object that is not a walk photo upload", extra={"key": key[:200]})
        return "ignored"
    walk_id, photo_id = matched.groups()
    s3 = aws.s3()
    with db.transaction() as conn:
        photo = conn.execute(
            "SELECT content_type, size_bytes, status FROM walk_photos WHERE id = %s AND walk_id = %s FOR UPDATE",
            (photo_id, walk_id),
        ).fetchone()
        if photo is None:
            logger.warning("an upload for no photo", extra={"walk_id": walk_id, "photo_id": photo_id})
            outcome = "ignored"
        elif photo["status"] != "pending":
            outcome = "done"
        else:
            outcome, details = _decide(s3, bucket, walk_id, photo_id, photo)
            conn.execute(
                "UPDATE walk_photos SET status = %s, reason = %s, width = %s, height = %s, checked_at = now()"
                " WHERE id = %s",
                (outcome, details.get("reason"), details.get("width"), details.get("height"), photo_id),
            )
    if outcome != "ignored":
        s3.delete_object(Bucket=bucket, Key=key)  # after the commit: a crash before it leaves it for the retry
    return outcome


def _decide(s3: Any, bucket: str, walk_id: str, photo_id: str, photo: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Read the upload, check and clean it; store the copies when it is good."""
    try:
        stored = s3.get_object(Bucket=bucket, Key=upload_key(walk_id, photo_id))
    except s3.exceptions.NoSuchKey:
        return "rejected", {"reason": "missing"}
    # the policy bounds the size; checked again here, before reading: what is kept must be what was declared
    if int(stored["ContentLength"]) > min(int(photo["size_bytes"]), MAX_BYTES):
        stored["Body"].close()
        return "rejected", {"reason": "too_large"}
    data = stored["Body"].read(MAX_BYTES + 1)
    try:
        cleaned = images.clean(data, photo["content_type"])
    except images.Rejected as refused:
        logger.info("walk photo rejected", extra={"photo_id": photo_id, "reason": refused.reason})
        return "rejected", {"reason": refused.reason}
    s3.put_object(Bucket=bucket, Key=photo_key(walk_id, photo_id), Body=cleaned.image,
                  ContentType=photo["content_type"], CacheControl="private, max-age=300")  # fmt: skip
    s3.put_object(Bucket=bucket, Key=thumbnail_key(walk_id, photo_id), Body=cleaned.thumbnail,
                  ContentType="image/jpeg", CacheControl="private, max-age=300")  # fmt: skip
    return "ready", {"width": cleaned.width, "height": cleaned.height}


def uploads_of(event: dict[str, Any]) -> list[tuple[str, str]]:
    """The (bucket, key) of each object-created record of an S3 event notification (the body of a
    queued message); S3's test event and other records give none."""
    from urllib.parse import unquote_plus

    found = []
    for record in event.get("Records") or []:
        if not isinstance(record, dict) or not str(record.get("eventName", "")).startswith("ObjectCreated:"):
            continue
        s3 = record.get("s3") or {}
        bucket, key = (s3.get("bucket") or {}).get("name"), (s3.get("object") or {}).get("key")
        if isinstance(bucket, str) and isinstance(key, str):
            found.append((bucket, unquote_plus(key)))  # S3 sends keys URL-encoded, spaces as `+`
    return found
