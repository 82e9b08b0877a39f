"""The outbox relay on real PostgreSQL and moto's SNS/SQS: events go out right after their
commit, fan out to the channel queues by their filters, never twice under concurrent relays, and
stay in the outbox while SNS is down until the sweep gets them out."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from dogwalk.adapters import aws, db
from dogwalk.events import outbox, relay
from tests.integration.bookings.conftest import database_url, next_weekday_at, walk
from tests.integration.conftest import Api
from tests.integration.marketplace.conftest import create_dog, rows
from tests.integration.notifications.conftest import drain


def test_an_accepted_booking_is_published_right_after_its_commit(api: Api, events_topic, owner, walker,
                                                                 card) -> None:  # fmt: skip
    dog = create_dog(api, owner)["id"]
    booking = api.post("/v1/bookings", json_body={**walk(walker, [dog], next_weekday_at(10)),
                                                  "payment_method_id": card}, token=owner.token).json()  # fmt: skip

    assert api.post(f"/v1/bookings/{booking['id']}/accept", token=walker.token).status == 200

    assert rows(database_url(), "SELECT count(*) AS n FROM outbox WHERE published_at IS NULL") == [{"n": 0}]
    inbox = [e for e in drain("notifications-inbox") if e["type"] != "verification.decided"]  # the walker's making
    assert [(e["type"], e["recipient_id"]) for e in inbox] == [("booking.requested", walker.id),
                                                               ("booking.accepted", owner.id)]  # fmt: skip
    assert inbox[1]["payload"]["booking_id"] == booking["id"]
    assert [e["type"] for e in drain("notifications-sms")] == ["booking.accepted"]  # its filter: not requests


def pending(count: int) -> list[str]:
    user = rows(database_url(), "INSERT INTO users (id, email, role, name, password_hash) VALUES"
                                " (gen_random_uuid(), %s, 'owner', 'O', 'x') RETURNING id::text",
                f"{uuid.uuid4().hex}@example.com")[0]["id"]  # fmt: skip
    with db.transaction() as conn:
        return [outbox.record(conn, "payout.sent", user, "walker", {"n": n}) for n in range(count)]


def test_concurrent_relays_publish_each_event_once(events_topic) -> None:
    pending(230)
    together = threading.Barrier(4)

    def sweep(_: int) -> int:
        together.wait()
        try:
            return relay.sweep()
        finally:
            db.reset()

    with ThreadPoolExecutor(max_workers=4) as pool:
        published = sum(pool.map(sweep, range(4)))

    assert published == 230
    received = drain("notifications-inbox")
    assert len(received) == 230 and len({e["id"] for e in received}) == 230
    assert rows(database_url(), "SELECT count(*) AS n FROM outbox WHERE published_at IS NULL") == [{"n": 0}]


def test_events_wait_in_the_outbox_while_sns_is_down(events_topic, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = pending(3)
    sns = aws.client("sns")
    monkeypatch.setattr(sns, "publish_batch", _unreachable)

    with pytest.raises(ConnectionError):
        relay.publish()
    relay.publish_recorded()  # a request's best effort: no error for the request

    assert rows(database_url(), "SELECT count(*) AS n FROM outbox WHERE published_at IS NULL") == [{"n": 3}]
    monkeypatch.undo()
    assert relay.sweep() == 3  # SNS is back: the minute's sweep
    assert sorted(e["id"] for e in drain("notifications-inbox")) == sorted(ids)


def _unreachable(**_: object) -> None:
    raise ConnectionError("SNS cannot be reached")
