"""Notification preferences and the in-app inbox through HTTP on real PostgreSQL: the defaults of
a user who never chose, a PUT that replaces them (every 422 it refuses), and the inbox: newest
first a page at a time, only one's own, read once however often it is read, and 404 for what is
not the caller's."""

from __future__ import annotations

import base64
import json
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.conftest import Dependencies
from tests.integration.conftest import Answer, Api, assert_problem
from tests.integration.marketplace.conftest import Caller, names_field, new_caller, rows, run_sql

EVENT_TYPES = [
    "booking.requested", "booking.accepted", "booking.declined", "booking.expired", "booking.cancelled",
    "walk.started", "walk.completed", "payment.captured", "payment.refunded", "payment.failed", "payout.sent",
    "tip.received", "review.received", "verification.decided", "payment.disputed",
    "message.received", "walk.late", "booking.change_proposed", "booking.changed",
]  # fmt: skip
EMAILED = {
    "walk.completed",
    "payment.captured",
    "payment.refunded",
    "payout.sent",
    "tip.received",
    "verification.decided",
    "payment.disputed",
    "payment.failed",
}
TEXTED = {"booking.accepted", "booking.cancelled", "walk.started"}
DEFAULTS = {
    event: ["push"] + (["email"] if event in EMAILED else []) + (["sms"] if event in TEXTED else [])
    for event in EVENT_TYPES
}
PREFERENCES = "/v1/notifications/preferences"


def get_preferences(api: Api, caller: Caller) -> dict[str, Any]:
    answer = api.get(PREFERENCES, token=caller.token)
    assert answer.status == 200, answer.body
    return answer.json()


def put_preferences(api: Api, caller: Caller, body: Any) -> Answer:
    return api.put(PREFERENCES, json_body=body, token=caller.token)


# --- preferences ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["owner", "walker", "admin"])
def test_a_new_user_gets_push_everywhere_and_the_default_emails_and_texts(
    api: Api, state: Dependencies, role: str
) -> None:
    assert get_preferences(api, new_caller(state, role)) == {
        "channels": DEFAULTS,
        "quiet_hours": None,
        "timezone": "UTC",
    }
    assert DEFAULTS["walk.started"] == ["push", "sms"]
    assert DEFAULTS["payment.captured"] == DEFAULTS["walk.completed"] == ["push", "email"]  # the report card
    assert DEFAULTS["review.received"] == ["push"]


def test_a_put_replaces_the_choices_and_reads_back_with_the_defaults_filled_in(api: Api, state: Dependencies) -> None:
    walker = new_caller(state, "walker")
    body: dict[str, Any] = {
        "channels": {"booking.requested": ["sms", "push", "email"], "payout.sent": ["email"], "review.received": []},
        "quiet_hours": {"start": "22:00", "end": "07:30"},
        "timezone": "America/New_York",
    }

    answer = put_preferences(api, walker, body)

    assert answer.status == 200, answer.body
    expected = {
        "channels": {**DEFAULTS, **body["channels"]},
        "quiet_hours": {"start": "22:00", "end": "07:30"},
        "timezone": "America/New_York",
    }
    assert answer.json() == expected
    assert get_preferences(api, walker) == expected
    assert list(answer.json()["channels"]) == EVENT_TYPES  # every event type, in one order
    saved = rows(state.database_url, "SELECT channels FROM notification_preferences WHERE user_id = %s", walker.id)
    assert saved == [{"channels": body["channels"]}]  # only what was chosen: defaults may change later


def test_a_second_put_replaces_the_first_whatever_it_leaves_out(api: Api, state: Dependencies) -> None:
    owner = new_caller(state, "owner")
    first = {
        "channels": {"walk.started": [], "booking.accepted": ["email"]},
        "quiet_hours": {"start": "23:00", "end": "06:00"},
        "timezone": "Europe/Paris",
    }
    assert put_preferences(api, owner, first).status == 200

    answer = put_preferences(api, owner, {"channels": {"walk.completed": ["email"]}})

    assert answer.status == 200, answer.body
    assert answer.json() == {
        "channels": {**DEFAULTS, "walk.completed": ["email"]},  # walk.started and booking.accepted: defaults again
        "quiet_hours": None,
        "timezone": "UTC",
    }
    assert put_preferences(api, owner, {"channels": {}, "quiet_hours": None}).json()["channels"] == DEFAULTS


def test_each_user_has_their_own_preferences(api: Api, state: Dependencies) -> None:
    owner, neighbour = new_caller(state, "owner"), new_caller(state, "owner")
    body = {"channels": {"walk.started": []}, "quiet_hours": {"start": "01:00", "end": "02:00"}}
    assert put_preferences(api, owner, body).status == 200

    assert get_preferences(api, neighbour) == {"channels": DEFAULTS, "quiet_hours": None, "timezone": "UTC"}
    assert get_preferences(api, owner)["channels"]["walk.started"] == []


INVALID: dict[str, tuple[Any, str]] = {  # case: (body, a part of the error's loc)
    "an unknown event type": ({"channels": {"booking.lost": ["push"]}}, "booking.lost"),
    "an event type in another case": ({"channels": {"Walk.Started": ["push"]}}, "Walk.Started"),
    "an unknown channel": ({"channels": {"walk.started": ["pigeon"]}}, "walk.started"),
    "the inbox, which is not a choice": ({"channels": {"walk.started": ["inbox"]}}, "walk.started"),
    "a channel twice": ({"channels": {"walk.started": ["push", "sms", "push"]}}, "walk.started"),
    "channels not a list": ({"channels": {"walk.started": "push"}}, "walk.started"),
    "no channels": ({"quiet_hours": None}, "channels"),
    "channels not an object": ({"channels": ["push"]}, "channels"),
    "an hour without its zero": ({"channels": {}, "quiet_hours": {"start": "7:00", "end": "22:00"}}, "start"),
    "hour 24": ({"channels": {}, "quiet_hours": {"start": "22:00", "end": "24:00"}}, "end"),
    "minute 60": ({"channels": {}, "quiet_hours": {"start": "22:60", "end": "07:00"}}, "start"),
    "seconds": ({"channels": {}, "quiet_hours": {"start": "22:00:00", "end": "07:00"}}, "start"),
    "a number": ({"channels": {}, "quiet_hours": {"start": 2200, "end": "07:00"}}, "start"),
    "not a time": ({"channels": {}, "quiet_hours": {"start": "late", "end": "07:00"}}, "start"),
    "no end": ({"channels": {}, "quiet_hours": {"start": "22:00"}}, "end"),
    "start equal to end": ({"channels": {}, "quiet_hours": {"start": "22:00", "end": "22:00"}}, "quiet_hours"),
    "an unknown timezone": ({"channels": {}, "timezone": "Mars/Olympus_Mons"}, "timezone"),
    "a timezone in another case": ({"channels": {}, "timezone": "america/new_york"}, "timezone"),
    "a path for a timezone": ({"channels": {}, "timezone": "../../etc/passwd"}, "timezone"),
    "an empty timezone": ({"channels": {}, "timezone": ""}, "timezone"),
    "a null timezone": ({"channels": {}, "timezone": None}, "timezone"),
    "a field it does not know": ({"channels": {}, "sound": "bark"}, "sound"),
    "a field quiet hours do not know": (
        {"channels": {}, "quiet_hours": {"start": "22:00", "end": "07:00", "days": [5, 6]}},
        "days",
    ),
}


@pytest.mark.parametrize("case", INVALID)
def test_a_body_that_breaks_a_rule_is_a_422_naming_the_field_and_changes_nothing(
    api: Api, state: Dependencies, case: str
) -> None:
    owner = new_caller(state, "owner")
    body, field = INVALID[case]

    answer = put_preferences(api, owner, body)

    assert names_field(answer, field), answer.body
    assert get_preferences(api, owner) == {"channels": DEFAULTS, "quiet_hours": None, "timezone": "UTC"}
    assert rows(state.database_url, "SELECT 1 FROM notification_preferences") == []


def test_preferences_need_a_token(api: Api) -> None:
    assert_problem(api.get(PREFERENCES), 401, "unauthorized")
    assert_problem(api.put(PREFERENCES, json_body={"channels": {}}), 401, "unauthorized")


# --- the inbox -----------------------------------------------------------------------------------

MOMENT = datetime(2026, 11, 25, 9, 0, 0, 123456, tzinfo=UTC)


def insert_notification(
    database_url: str, user_id: str, created_at: datetime, *, notification_id: str | None = None, **fields: Any
) -> str:
    """An inbox row written directly, as the inbox consumer would write it."""
    row = {
        "id": notification_id or str(uuid.uuid4()),
        "event_type": "booking.requested",
        "title": "New walk request",
        "body": "Biscuit needs a walk on Wednesday at 09:00.",
        "data": {"booking_id": str(uuid.uuid4())},
        **fields,
    }
    run_sql(
        database_url,
        "INSERT INTO notifications (id, user_id, event_id, event_type, title, body, data, created_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        row["id"], user_id, str(uuid.uuid4()), row["event_type"], row["title"], row["body"], json.dumps(row["data"]),
        created_at,
    )  # fmt: skip
    return str(row["id"])


def inbox(api: Api, caller: Caller, **query: Any) -> Answer:
    return api.get("/v1/notifications" + (f"?{urlencode(query)}" if query else ""), token=caller.token)


def every_page(api: Api, caller: Caller, limit: int) -> list[list[str]]:
    pages: list[list[str]] = []
    cursor = None
    while True:
        answer = inbox(api, caller, limit=limit, **({"cursor": cursor} if cursor else {}))
        assert answer.status == 200, answer.body
        pages.append([item["id"] for item in answer.json()["items"]])
        cursor = answer.json()["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 10, "pagination does not end"


def test_the_inbox_shows_a_notification_as_it_was_written(api: Api, state: Dependencies) -> None:
    owner = new_caller(state, "owner")
    data = {"booking_id": str(uuid.uuid4()), "report_url": "/v1/walks/1/report.svg"}
    notification_id = insert_notification(
        state.database_url, owner.id, MOMENT, event_type="walk.completed", title="Walk done",
        body="Biscuit walked 3.2 km.", data=data,
    )  # fmt: skip

    answer = inbox(api, owner)

    assert answer.status == 200, answer.body
    assert answer.json() == {
        "items": [
            {
                "id": notification_id,
                "event_type": "walk.completed",
                "title": "Walk done",
                "body": "Biscuit walked 3.2 km.",
                "data": data,
                "created_at": "2026-11-25T09:00:00.123456Z",
                "read_at": None,
            }
        ],
        "next_cursor": None,
    }


def test_five_notifications_two_at_a_time_come_newest_first_each_once(api: Api, state: Dependencies) -> None:
    owner, walker = new_caller(state, "owner"), new_caller(state, "walker")
    ids = [str(uuid.uuid4()) for _ in range(5)]
    ids[1:3] = sorted(ids[1:3], reverse=True)  # written in the same microsecond: the larger id first
    times = [
        MOMENT + timedelta(minutes=3),
        MOMENT + timedelta(minutes=2),  # the tie sits across the first page boundary
        MOMENT + timedelta(minutes=2),
        MOMENT + timedelta(minutes=1, microseconds=1),
        MOMENT + timedelta(minutes=1),
    ]
    for at, notification_id in random.Random(7).sample(list(zip(times, ids, strict=True)), len(ids)):
        insert_notification(state.database_url, owner.id, at, notification_id=notification_id)
        insert_notification(state.database_url, walker.id, at)  # someone else's, at the same times

    pages = every_page(api, owner, limit=2)

    assert pages == [ids[0:2], ids[2:4], ids[4:]]
    assert every_page(api, owner, limit=5) == [ids]
    assert every_page(api, owner, limit=100) == [ids]


def test_the_inbox_shows_only_ones_own_notifications(api: Api, state: Dependencies) -> None:
    owner, walker, stranger = new_caller(state, "owner"), new_caller(state, "walker"), new_caller(state, "owner")
    mine = insert_notification(state.database_url, owner.id, MOMENT)
    theirs = [insert_notification(state.database_url, walker.id, MOMENT + timedelta(seconds=n)) for n in range(3)]

    assert every_page(api, owner, limit=20) == [[mine]]
    assert every_page(api, walker, limit=2) == [theirs[::-1][:2], theirs[::-1][2:]]
    assert every_page(api, stranger, limit=20) == [[]]


def test_bad_limits_and_cursors_the_api_did_not_give_are_422s(api: Api, state: Dependencies) -> None:
    owner = new_caller(state, "owner")
    insert_notification(state.database_url, owner.id, MOMENT)

    def encoded(key: Any) -> str:
        return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()

    for limit in ("0", "101", "many"):
        assert names_field(inbox(api, owner, limit=limit), "limit"), limit
    for cursor in (
        "not-a-cursor",
        encoded(["2026-11-25T09:00:00+00:00"]),
        encoded(["2026-11-25T09:00:00", str(uuid.uuid4())]),
        encoded(["2026-11-25T09:00:00+00:00", "not-a-uuid"]),
    ):
        assert names_field(inbox(api, owner, cursor=cursor), "cursor"), cursor


def read(api: Api, caller: Caller, notification_id: str) -> Answer:
    return api.post(f"/v1/notifications/{notification_id}/read", token=caller.token)


def read_at(state: Dependencies, notification_id: str) -> datetime | None:
    return rows(state.database_url, "SELECT read_at FROM notifications WHERE id = %s", notification_id)[0]["read_at"]


def test_reading_twice_keeps_the_first_read_time(api: Api, state: Dependencies) -> None:
    owner = new_caller(state, "owner")
    notification_id = insert_notification(state.database_url, owner.id, MOMENT)
    other = insert_notification(state.database_url, owner.id, MOMENT - timedelta(hours=1))

    first = read(api, owner, notification_id)

    assert first.status == 204, first.body
    assert first.body == b""
    first_read = read_at(state, notification_id)
    assert first_read is not None
    assert read_at(state, other) is None
    assert read(api, owner, notification_id).status == 204
    assert read_at(state, notification_id) == first_read
    listed = inbox(api, owner).json()["items"]
    assert [datetime.fromisoformat(item["read_at"]) if item["read_at"] else None for item in listed] == [
        first_read,
        None,
    ]


def test_someone_elses_an_unknown_or_a_malformed_notification_is_a_404(api: Api, state: Dependencies) -> None:
    owner, neighbour = new_caller(state, "owner"), new_caller(state, "owner")
    theirs = insert_notification(state.database_url, neighbour.id, MOMENT)

    for notification_id in (theirs, str(uuid.uuid4()), "not-a-notification", "1"):
        assert_problem(read(api, owner, notification_id), 404, "not_found")
    assert read_at(state, theirs) is None
    assert read(api, neighbour, theirs).status == 204


def test_the_inbox_needs_a_token(api: Api, state: Dependencies) -> None:
    owner = new_caller(state, "owner")
    notification_id = insert_notification(state.database_url, owner.id, MOMENT)

    assert_problem(api.get("/v1/notifications"), 401, "unauthorized")
    assert_problem(api.post(f"/v1/notifications/{notification_id}/read"), 401, "unauthorized")
    assert read_at(state, notification_id) is None
