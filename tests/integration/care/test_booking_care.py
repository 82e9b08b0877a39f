"""GET /v1/bookings/{id}/care: its owner always; its walker only while the booking is accepted or in
progress and from exactly 24 h before its start until its end (the window [start - 24 h, end));
anyone else, and the walker outside the window, the same 404 as an unknown id. Every walker read is
logged, and the owner lists the log; nothing of the home reaches the logs."""

from __future__ import annotations

import io
import logging
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from tests.conftest import Dependencies
from tests.integration.care.conftest import (
    ACCESS_INSTRUCTIONS,
    DOG_CARE,
    EMERGENCY_NAME,
    HOME,
    LOCKBOX_CODE,
    booking,
    profiled_walker,
    put_home,
)
from tests.integration.conftest import Api, assert_problem
from tests.integration.marketplace.conftest import Caller, new_caller, rows, run_sql

MICROSECOND = timedelta(microseconds=1)


def care(api: Api, caller: Caller, booking_id: str) -> Any:
    return api.get(f"/v1/bookings/{booking_id}/care", token=caller.token)


def reads(state: Dependencies, owner: Caller) -> list[dict[str, Any]]:
    return rows(state.database_url, "SELECT * FROM home_access_reads WHERE owner_id = %s ORDER BY read_at", owner.id)


def unknown_answer(api: Api, caller: Caller) -> dict[str, Any]:
    body = assert_problem(care(api, caller, str(uuid.uuid4())), 404, "not_found")
    return {key: body[key] for key in ("title", "detail", "code", "status")}


def assert_hidden(api: Api, caller: Caller, booking_id: str) -> None:
    """The same answer as for a booking that does not exist (no existence leak)."""
    body = assert_problem(care(api, caller, booking_id), 404, "not_found")
    assert {key: body[key] for key in ("title", "detail", "code", "status")} == unknown_answer(api, caller)
    assert LOCKBOX_CODE not in str(body)


def test_the_walker_reads_the_home_and_the_dogs_in_the_window(
    api: Api, state: Dependencies, owner: Caller, walker: Caller, dog: dict[str, Any]
) -> None:
    put_home(api, owner)
    booking_id, _, _ = booking(state, owner, walker, dog, status="accepted", starts_in=timedelta(hours=2))

    answer = care(api, walker, booking_id)

    assert answer.status == 200, answer.body
    assert answer.json() == {
        "home": HOME,
        "dogs": [{"id": dog["id"], "name": dog["name"], "size": dog["size"], **DOG_CARE}],
    }


def test_the_owner_reads_in_any_state_and_any_time_without_a_log_row(
    api: Api, state: Dependencies, owner: Caller, walker: Caller, dog: dict[str, Any]
) -> None:
    put_home(api, owner)
    for status, starts_in in (("requested", timedelta(days=9)), ("cancelled", timedelta(days=3)),
                              ("completed", timedelta(days=-3))):  # fmt: skip
        booking_id, _, _ = booking(state, owner, walker, dog, status=status, starts_in=starts_in)

        answer = care(api, owner, booking_id)

        assert answer.status == 200, answer.body
        assert answer.json()["home"] == HOME
    assert reads(state, owner) == []


def test_without_a_home_the_care_has_the_dogs_only(
    api: Api, state: Dependencies, owner: Caller, walker: Caller, dog: dict[str, Any]
) -> None:
    booking_id, _, _ = booking(state, owner, walker, dog)

    answer = care(api, walker, booking_id)

    assert answer.status == 200, answer.body
    assert answer.json()["home"] is None and [item["id"] for item in answer.json()["dogs"]] == [dog["id"]]


@pytest.mark.parametrize(
    ("status", "starts_in"),
    [
        ("requested", timedelta(hours=2)),
        ("cancelled", timedelta(hours=2)),
        ("declined", timedelta(hours=2)),
        ("expired", timedelta(minutes=-10)),
        ("completed", timedelta(minutes=-30)),  # ended early: its time is not over, the walk is
        ("accepted", timedelta(hours=25)),  # too early
        ("accepted", timedelta(hours=-2)),  # over (an hour's walk ended an hour ago)
    ],
)
def test_the_walker_outside_the_window_or_state_gets_the_unknown_ids_404(
    api: Api, state: Dependencies, owner: Caller, walker: Caller, dog: dict[str, Any], status: str,
    starts_in: timedelta,
) -> None:  # fmt: skip
    put_home(api, owner)
    booking_id, _, _ = booking(state, owner, walker, dog, status=status, starts_in=starts_in)

    assert_hidden(api, walker, booking_id)
    assert reads(state, owner) == []


def test_strangers_get_the_unknown_ids_404(
    api: Api, state: Dependencies, owner: Caller, other_owner: Caller, walker: Caller, stranger: Caller,
    dog: dict[str, Any],
) -> None:  # fmt: skip
    put_home(api, owner)
    booking_id, _, _ = booking(state, owner, walker, dog, status="in_progress", starts_in=timedelta(minutes=-10))

    assert_hidden(api, stranger, booking_id)
    assert_hidden(api, other_owner, booking_id)
    assert_problem(care(api, walker, "not-a-uuid"), 404, "not_found")
    assert_problem(care(api, new_caller(state, "admin"), booking_id), 403, "forbidden")
    assert care(api, walker, booking_id).status == 200  # the booked walker does see it


def test_a_walker_of_an_earlier_booking_of_the_same_owner_sees_nothing(
    api: Api, state: Dependencies, owner: Caller, walker: Caller, dog: dict[str, Any]
) -> None:
    put_home(api, owner)
    earlier, _, _ = booking(state, owner, walker, dog, status="completed", starts_in=timedelta(days=-7))
    later_walker = profiled_walker(api, state)
    current, _, _ = booking(state, owner, later_walker, dog, status="accepted", starts_in=timedelta(hours=1))

    assert_hidden(api, walker, earlier)
    assert_hidden(api, walker, current)
    assert care(api, later_walker, current).status == 200
    assert [row["walker_id"] for row in reads(state, owner)] == [uuid.UUID(later_walker.id)]


@pytest.mark.parametrize(
    ("at", "visible"),
    [
        (lambda start, end: start - timedelta(hours=24) - MICROSECOND, False),
        (lambda start, end: start - timedelta(hours=24), True),  # exactly 24 h before: open
        (lambda start, end: start, True),
        (lambda start, end: end - MICROSECOND, True),
        (lambda start, end: end, False),  # exactly at the end: closed
    ],
    ids=["just-before-24h", "exactly-24h-before", "at-start", "just-before-end", "exactly-at-end"],
)
@pytest.mark.parametrize("status", ["accepted", "in_progress"])
def test_the_windows_edges(
    api: Api, state: Dependencies, owner: Caller, walker: Caller, dog: dict[str, Any], status: str, at: Any,
    visible: bool,
) -> None:  # fmt: skip
    from dogwalk.care import visits
    from dogwalk.errors import NotFound

    put_home(api, owner)
    booking_id, start, end = booking(state, owner, walker, dog, status=status, starts_in=timedelta(days=2))
    moment = at(start, end)

    if visible:
        found = visits.care_of(booking_id, walker.id, "walker", now=moment)
        assert found["home"]["lockbox_code"] == LOCKBOX_CODE
        assert [row["read_at"] for row in reads(state, owner)] == [moment]
    else:
        with pytest.raises(NotFound):
            visits.care_of(booking_id, walker.id, "walker", now=moment)
        assert reads(state, owner) == []
    # the owner, at the same moment, always
    assert visits.care_of(booking_id, owner.id, "owner", now=moment)["home"]["lockbox_code"] == LOCKBOX_CODE


def test_the_window_follows_the_bookings_state(
    api: Api, state: Dependencies, owner: Caller, walker: Caller, dog: dict[str, Any]
) -> None:
    put_home(api, owner)
    booking_id, _, _ = booking(state, owner, walker, dog, status="accepted", starts_in=timedelta(hours=3))
    assert care(api, walker, booking_id).status == 200

    run_sql(state.database_url, "UPDATE bookings SET status = 'cancelled' WHERE id = %s", booking_id)

    assert_hidden(api, walker, booking_id)


def test_every_walker_read_is_in_the_owners_access_log_newest_first(
    api: Api, state: Dependencies, owner: Caller, other_owner: Caller, walker: Caller, dog: dict[str, Any]
) -> None:
    put_home(api, owner)
    booking_id, _, _ = booking(state, owner, walker, dog)
    for _ in range(3):
        assert care(api, walker, booking_id).status == 200
    assert care(api, owner, booking_id).status == 200  # the owner's own reads are not logged

    first = api.get("/v1/owners/me/home/access-log?limit=2", token=owner.token)
    assert first.status == 200, first.body
    rest = api.get(f"/v1/owners/me/home/access-log?limit=2&cursor={first.json()['next_cursor']}", token=owner.token)

    items = first.json()["items"] + rest.json()["items"]
    assert rest.json()["next_cursor"] is None
    assert len(items) == 3
    assert {(item["walker_id"], item["booking_id"], item["walker_name"]) for item in items} == {
        (walker.id, booking_id, "Test walker")
    }
    stored = sorted((row["read_at"] for row in reads(state, owner)), reverse=True)
    assert [item["read_at"] for item in items] == [moment.isoformat().replace("+00:00", "Z") for moment in stored] or [
        item["read_at"] for item in items
    ] == [moment.isoformat() for moment in stored]
    assert api.get("/v1/owners/me/home/access-log", token=other_owner.token).json() == {
        "items": [],
        "next_cursor": None,
    }
    assert_problem(api.get("/v1/owners/me/home/access-log?cursor=bogus", token=owner.token), 422, "validation_error")


@pytest.fixture
def function_logs() -> Iterator[io.StringIO]:
    """What the functions' Powertools logger writes (its own JSON formatter), every level, from here
    on (the tests' POWERTOOLS_LOG_LEVEL is WARNING)."""
    from dogwalk.adapters.observability import logger

    written = io.StringIO()
    handler = logging.StreamHandler(written)
    handler.setFormatter(logger.registered_formatter)
    level = logger._logger.level
    logger._logger.addHandler(handler)
    logger._logger.setLevel(logging.DEBUG)
    yield written
    logger._logger.setLevel(level)
    logger._logger.removeHandler(handler)


def test_nothing_of_the_home_reaches_the_logs(
    api: Api, state: Dependencies, owner: Caller, walker: Caller, stranger: Caller, dog: dict[str, Any],
    function_logs: io.StringIO, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    caplog.set_level(logging.DEBUG)
    booking_id, _, _ = booking(state, owner, walker, dog)

    put_home(api, owner)
    assert api.get("/v1/owners/me/home", token=owner.token).status == 200
    assert care(api, walker, booking_id).status == 200
    assert care(api, owner, booking_id).status == 200
    assert care(api, stranger, booking_id).status == 404
    bad = {**HOME, "lockbox_code": LOCKBOX_CODE * 10}
    assert api.put("/v1/owners/me/home", json_body=bad, token=owner.token).status == 422

    written = capsys.readouterr()
    logged = function_logs.getvalue() + caplog.text + written.out + written.err
    assert '"request refused"' in function_logs.getvalue()  # captured: the stranger's 404 is in them
    for secret in (LOCKBOX_CODE, ACCESS_INSTRUCTIONS, EMERGENCY_NAME, DOG_CARE["medical_notes"]):
        assert secret not in logged, secret
