"""Walk photos through HTTP, moto's S3 and SQS, and the real photo check: the walker asks for a
presigned POST, the file goes up as a multipart form POST (requests builds it; moto's S3 takes it),
the bucket's notification reaches the walk-photos queue (wired as `make run` wires it), the queue's
event source mapping (local.queues.QueueRunner) invokes the check, and the photo is `ready` with no
EXIF left, or `rejected`; the report card embeds the thumbnails. moto does not enforce a POST
policy's conditions: the policy is read back here, and the check's own size check is shown."""

from __future__ import annotations

import base64
import json
import threading
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from dogwalk import registry
from dogwalk.adapters import aws
from dogwalk.config import settings
from dogwalk.tracking import photos
from local.queues import QueueRunner, ensure_photo_bucket
from tests.conftest import Dependencies
from tests.integration.bookings.conftest import database_url
from tests.integration.conftest import Answer, Api, assert_problem
from tests.integration.marketplace.conftest import Caller, new_caller, rows
from tests.integration.tracking.conftest import Walk
from tests.integration.tracking.test_walk_views import SVG, ok
from tests.unit.tracking.test_images import gps_of, phone_jpeg

CHECK = next(consumer for consumer in registry.QUEUE_CONSUMERS if consumer.name == "check_walk_photo")


@pytest.fixture
def photo_check() -> Iterator[QueueRunner]:
    """The photo bucket, its notification and the check's queue on moto; the mapping to poll."""
    aws.s3.cache_clear()
    runner = QueueRunner(stop=threading.Event(), consumers=(CHECK,))
    runner.ensure_queues()
    ensure_photo_bucket()
    yield runner
    aws.s3.cache_clear()


def drain(runner: QueueRunner) -> int:
    """Run the event source mapping until the queue is empty; how many messages it handed over."""
    handed = 0
    while given := runner.poll_once(CHECK):
        handed += given
    return handed


def ask(api: Api, walk: Walk, content_type: str = "image/jpeg", size_bytes: int = 1 << 20) -> Answer:
    body = {"content_type": content_type, "size_bytes": size_bytes}
    return api.post(f"/v1/walks/{walk.id}/photos", json_body=body, token=walk.walker.token)


def upload(granted: dict[str, Any], data: bytes, content_type: str) -> requests.Response:
    """The app's upload: the policy's fields, then the file, as a multipart/form-data POST."""
    post = granted["upload"]
    return requests.post(post["url"], data=post["fields"], files={"file": ("photo", data, content_type)}, timeout=10)


def photos_of(api: Api, walk: Walk, caller: Caller | None = None) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = ok(api.get(f"/v1/walks/{walk.id}/photos", token=(caller or walk.owner).token))[
        "items"
    ]
    return items


def keys() -> list[str]:
    listed = aws.s3().list_objects_v2(Bucket=settings().photos_bucket).get("Contents", [])
    return sorted(item["Key"] for item in listed)


def test_a_phone_jpeg_with_gps_becomes_ready_with_no_exif_and_shows_on_the_report_card(
    api: Api, walk: Walk, photo_check: QueueRunner, admin: Caller
) -> None:
    original = phone_jpeg()
    assert gps_of(original)  # the phone's photo carries its position

    granted = ask(api, walk, size_bytes=len(original))
    assert granted.status == 201, granted.body
    photo = granted.json()
    assert upload(photo, original, "image/jpeg").status_code == 204
    assert photos_of(api, walk)[0]["status"] == "pending"
    assert drain(photo_check) >= 1

    (seen,) = photos_of(api, walk)
    assert (seen["id"], seen["status"]) == (photo["id"], "ready")
    stored = requests.get(seen["url"], timeout=10)
    assert stored.status_code == 200 and stored.content.startswith(b"\xff\xd8\xff")
    assert gps_of(stored.content) == {} and b"Exif" not in stored.content and b"Pixel 9" not in stored.content
    thumbnail = requests.get(seen["thumbnail_url"], timeout=10).content
    assert keys() == [photos.photo_key(walk.id, photo["id"]), photos.thumbnail_key(walk.id, photo["id"])]
    assert [p["status"] for p in photos_of(api, walk, admin)] == ["ready"]
    assert [p["status"] for p in photos_of(api, walk, walk.walker)] == ["ready"]

    now = int(datetime.now(UTC).timestamp())
    event = {"type": "photo", "tst": now, "photo_id": photo["id"]}
    noted = api.post(f"/v1/walks/{walk.id}/locations", json_body=event, token=walk.walker.token)
    assert noted.json() == {"accepted": 0, "events": 1, "dropped": {}}

    card = api.get(f"/v1/walks/{walk.id}/report.svg", token=walk.owner.token)
    root = ET.fromstring(card.body)  # noqa: S314 - our own endpoint's output
    (image,) = root.iter(f"{SVG}image")
    prefix = "data:image/jpeg;base64,"
    assert image.get("href", "").startswith(prefix)
    assert base64.b64decode(image.get("href", "")[len(prefix) :]) == thumbnail
    assert "http" not in image.get("href", "")


@pytest.mark.parametrize(
    ("data", "declared", "reason"),
    [
        (phone_jpeg(), "image/png", "not_declared_type"),
        (b"Biscuit was a very good boy today.\n" * 10, "image/jpeg", "not_declared_type"),
        (phone_jpeg()[:700], "image/jpeg", "undecodable"),
    ],
    ids=["jpeg-declared-as-png", "text-file", "truncated-jpeg"],
)
def test_a_file_that_is_not_a_whole_image_of_its_declared_type_is_rejected_and_not_kept(
    api: Api, walk: Walk, photo_check: QueueRunner, data: bytes, declared: str, reason: str
) -> None:
    photo = ask(api, walk, declared, len(data)).json()
    assert upload(photo, data, declared).status_code == 204

    drain(photo_check)

    assert [(p["id"], p["status"], p["url"], p["thumbnail_url"]) for p in photos_of(api, walk)] == [
        (photo["id"], "rejected", None, None)
    ]
    assert keys() == []  # the upload is gone, and nothing else was made
    assert rows(database_url(), "SELECT reason FROM walk_photos WHERE id = %s", photo["id"]) == [{"reason": reason}]
    card = ET.fromstring(api.get(f"/v1/walks/{walk.id}/report.svg", token=walk.owner.token).body)  # noqa: S314
    assert not list(card.iter(f"{SVG}image"))


def test_the_policy_fixes_the_key_the_type_and_the_size_and_the_check_refuses_more_bytes_than_declared(
    api: Api, walk: Walk, photo_check: QueueRunner
) -> None:
    before = datetime.now(UTC)
    photo = ask(api, walk, "image/png", 4096).json()

    fields = photo["upload"]["fields"]
    policy = json.loads(base64.b64decode(fields["policy"]))
    key = f"walks/{walk.id}/{photo['id']}"
    assert fields["key"] == key and fields["Content-Type"] == "image/png"
    assert fields["x-amz-algorithm"] == "AWS4-HMAC-SHA256"  # SigV4: S3 refuses SigV2 on new buckets
    conditions = policy["conditions"]
    assert {"key": key} in conditions and {"bucket": settings().photos_bucket} in conditions
    assert {"Content-Type": "image/png"} in conditions and ["content-length-range", 1, 4096] in conditions
    expires = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    assert before + timedelta(minutes=14) < expires <= datetime.now(UTC) + timedelta(minutes=15)
    assert datetime.fromisoformat(photo["expires_at"]) - expires < timedelta(seconds=2)

    # S3 refuses this by the policy (EntityTooLarge); moto does not, so the check must
    too_big = phone_jpeg(2000, 2000)
    assert len(too_big) > 4096
    photo = ask(api, walk, "image/jpeg", 4096).json()
    assert upload(photo, too_big, "image/jpeg").status_code == 204
    drain(photo_check)
    assert rows(database_url(), "SELECT status, reason FROM walk_photos WHERE id = %s", photo["id"]) == [
        {"status": "rejected", "reason": "too_large"}
    ]


def test_a_redelivered_notification_decides_nothing_again(api: Api, walk: Walk, photo_check: QueueRunner) -> None:
    data = phone_jpeg()
    photo = ask(api, walk, size_bytes=len(data)).json()
    upload(photo, data, "image/jpeg")
    drain(photo_check)
    bucket, key = settings().photos_bucket, photos.upload_key(walk.id, photo["id"])

    assert photos.check_upload(bucket, key) == "done"
    assert photos.check_upload(bucket, f"walks/{walk.id}/not-a-photo") == "ignored"
    assert photos.check_upload("someone-elses-bucket", key) == "ignored"
    assert [p["status"] for p in photos_of(api, walk)] == ["ready"]


def test_the_card_embeds_at_most_four_thumbnails(api: Api, walk: Walk, photo_check: QueueRunner) -> None:
    data = phone_jpeg(320, 240)
    for _ in range(5):
        upload(ask(api, walk, size_bytes=len(data)).json(), data, "image/jpeg")
    drain(photo_check)
    assert [p["status"] for p in photos_of(api, walk)] == ["ready"] * 5

    card = ET.fromstring(api.get(f"/v1/walks/{walk.id}/report.svg", token=walk.owner.token).body)  # noqa: S314

    assert len(list(card.iter(f"{SVG}image"))) == 4


def test_bad_requests_are_422_and_write_nothing(api: Api, walk: Walk, photo_check: QueueRunner) -> None:
    path = f"/v1/walks/{walk.id}/photos"
    for body in (
        {"content_type": "image/gif", "size_bytes": 100},
        {"content_type": "image/jpeg", "size_bytes": 10 * 1024 * 1024 + 1},
        {"content_type": "image/jpeg", "size_bytes": 0},
        {"content_type": "image/jpeg", "size_bytes": "100"},
        {"content_type": "image/jpeg", "size_bytes": 100, "key": "walks/../other"},
        {"content_type": "image/jpeg"},
    ):
        assert_problem(api.post(path, json_body=body, token=walk.walker.token), 422, "validation_error")
    assert ask(api, walk, size_bytes=10 * 1024 * 1024).status == 201  # 10 MiB exactly is fine
    assert rows(database_url(), "SELECT count(*) AS n FROM walk_photos") == [{"n": 1}]


def test_strangers_get_404_on_both_endpoints_and_an_owner_may_not_upload(
    api: Api, state: Dependencies, walk: Walk, photo_check: QueueRunner
) -> None:
    body = {"content_type": "image/jpeg", "size_bytes": 100}
    for stranger in (new_caller(state, "walker"),):
        assert_problem(api.post(f"/v1/walks/{walk.id}/photos", json_body=body, token=stranger.token), 404,
                       "not_found")  # fmt: skip
    for stranger in (new_caller(state, "walker"), new_caller(state, "owner")):
        assert_problem(api.get(f"/v1/walks/{walk.id}/photos", token=stranger.token), 404, "not_found")
    for missing in (str(uuid.uuid4()), "not-a-walk"):
        assert_problem(api.get(f"/v1/walks/{missing}/photos", token=walk.owner.token), 404, "not_found")
        assert_problem(api.post(f"/v1/walks/{missing}/photos", json_body=body, token=walk.walker.token), 404,
                       "not_found")  # fmt: skip
    assert_problem(api.post(f"/v1/walks/{walk.id}/photos", json_body=body, token=walk.owner.token), 403, "forbidden")
    assert rows(database_url(), "SELECT count(*) AS n FROM walk_photos") == [{"n": 0}]


def test_a_walk_that_is_over_takes_no_more_photos(api: Api, walk: Walk, photo_check: QueueRunner) -> None:
    assert api.post(f"/v1/bookings/{walk.booking_id}/complete", token=walk.walker.token).status == 200

    assert_problem(ask(api, walk), 409, "invalid_state")
    assert photos_of(api, walk) == []
