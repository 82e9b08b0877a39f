"""Late and no-show walks with time moved (the schedule's `now` is its event's time): `walk.late` to
both parties once, 15 minutes after an accepted walk's start; 60 minutes after, the walk is
cancelled, its hold voided at the gateway, both told with reason `no_show`, and the walker's
profile counts it; concurrent runs do each of these once."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from dogwalk.adapters import db
from dogwalk.bookings import no_show
from local.runtime import LambdaContext
from tests.conftest import REPO
from tests.integration.bookings.conftest import database_url, gateway, intent_of, next_weekday_at
from tests.integration.bookings.test_walk_and_capture import accepted_walk
from tests.integration.conftest import Api
from tests.integration.marketplace.conftest import Caller, rows, run_sql


def start_of(booking_id: str) -> datetime:
    found = rows(database_url(), "SELECT start_ts FROM bookings WHERE id = %s", booking_id)
    start: datetime = found[0]["start_ts"]
    return start


def told(event_type: str) -> list[tuple[str, str | None]]:
    found = rows(database_url(), "SELECT recipient_id::text AS who, payload->>'reason' AS reason FROM outbox"
                 " WHERE event_type = %s ORDER BY recipient_id", event_type)  # fmt: skip
    return [(row["who"], row["reason"]) for row in found]


def run_job(at: datetime) -> dict[str, int]:
    """The function, as EventBridge invokes it at `at` (the scheduled event's `time`)."""
    from bookings import handle_no_shows

    event = json.loads((REPO / "events" / "handle_no_shows.json").read_text())
    event["time"] = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return dict(handle_no_shows.lambda_handler(event, LambdaContext("handle_no_shows")))


def profile_no_shows(api: Api, walker: Caller, owner: Caller) -> int:
    answer = api.get(f"/v1/walkers/{walker.id}", token=owner.token)
    assert answer.status == 200, answer.body
    return int(answer.json()["no_shows"])


def test_a_walk_not_started_is_late_after_15_minutes_once_and_a_no_show_after_60(
    api: Api, owner: Caller, walker: Caller, card: str
) -> None:
    booking = accepted_walk(api, owner, walker, card, minutes_from_now=5)
    start = start_of(booking["id"])

    assert run_job(start + timedelta(minutes=14)) == {"late": 0, "no_shows": 0, "unreachable": 0}
    assert told("walk.late") == []
    assert run_job(start + timedelta(minutes=16)) == {"late": 1, "no_shows": 0, "unreachable": 0}
    assert run_job(start + timedelta(minutes=17)) == {"late": 0, "no_shows": 0, "unreachable": 0}
    assert told("walk.late") == sorted([(owner.id, None), (walker.id, None)])
    assert api.get(f"/v1/bookings/{booking['id']}", token=owner.token).json()["status"] == "accepted"
    assert run_job(start + timedelta(minutes=59)) == {"late": 0, "no_shows": 0, "unreachable": 0}

    assert run_job(start + timedelta(minutes=61)) == {"late": 0, "no_shows": 1, "unreachable": 0}

    seen = api.get(f"/v1/bookings/{booking['id']}", token=owner.token).json()
    assert (seen["status"], seen["payment"]["status"]) == ("cancelled", "voided")
    assert gateway().v1.payment_intents.retrieve(intent_of(booking["id"])).status == "canceled"
    payment = api.get(f"/v1/bookings/{booking['id']}/payment", token=owner.token).json()
    total = booking["price"]["total_cents"]
    assert (payment["captured_cents"], payment["refunded_cents"]) == (0, total)
    assert told("booking.cancelled") == sorted([(owner.id, "no_show"), (walker.id, "no_show")])
    assert rows(database_url(), "SELECT count(*) AS n FROM ledger_transactions") == [{"n": 0}]
    transition = rows(database_url(), "SELECT actor_id, reason FROM booking_transitions WHERE booking_id = %s"
                      " AND to_status = 'cancelled'", booking["id"])  # fmt: skip
    assert transition == [{"actor_id": None, "reason": "no_show"}]
    assert profile_no_shows(api, walker, owner) == 1
    assert run_job(start + timedelta(minutes=90)) == {"late": 0, "no_shows": 0, "unreachable": 0}
    assert profile_no_shows(api, walker, owner) == 1


def test_a_walk_started_late_is_neither_late_again_nor_a_no_show(api: Api, owner: Caller, walker: Caller,
                                                                 card: str) -> None:  # fmt: skip
    booking = accepted_walk(api, owner, walker, card, minutes_from_now=5)
    start = start_of(booking["id"])
    assert api.post(f"/v1/bookings/{booking['id']}/start", token=walker.token).status == 200

    assert run_job(start + timedelta(minutes=20)) == {"late": 0, "no_shows": 0, "unreachable": 0}
    assert run_job(start + timedelta(minutes=70)) == {"late": 0, "no_shows": 0, "unreachable": 0}

    assert api.get(f"/v1/bookings/{booking['id']}", token=owner.token).json()["status"] == "in_progress"
    assert told("walk.late") == [] and told("booking.cancelled") == []
    assert profile_no_shows(api, walker, owner) == 0


def test_a_run_that_finds_the_walk_an_hour_late_cancels_it_without_a_late_notice_first(
    api: Api, owner: Caller, walker: Caller, card: str
) -> None:
    booking = accepted_walk(api, owner, walker, card, minutes_from_now=5)

    assert no_show.sweep(now=start_of(booking["id"]) + timedelta(hours=3)) == {
        "late": 0, "no_shows": 1, "unreachable": 0,
    }  # fmt: skip
    assert told("walk.late") == []
    assert len(told("booking.cancelled")) == 2


def test_a_requested_walk_past_its_start_is_not_a_no_show(api: Api, owner: Caller, walker: Caller, card: str) -> None:
    booking = accepted_walk(api, owner, walker, card, minutes_from_now=5)
    # never accepted: the expiry sweep's business, not this one's
    run_sql(database_url(), "UPDATE bookings SET status = 'requested' WHERE id = %s", booking["id"])

    assert no_show.sweep(now=start_of(booking["id"]) + timedelta(hours=2)) == {
        "late": 0, "no_shows": 0, "unreachable": 0,
    }  # fmt: skip
    assert told("walk.late") == [] and told("booking.cancelled") == []


def test_concurrent_runs_tell_once_and_cancel_once(api: Api, owner: Caller, walker: Caller, card: str) -> None:
    late = accepted_walk(api, owner, walker, card, minutes_from_now=5)
    gone = accepted_walk(api, owner, walker, card, minutes_from_now=-60)  # due 65 minutes before `late`
    moment = start_of(late["id"]) + timedelta(minutes=20)  # `late` 20 minutes late, `gone` 85
    together = threading.Barrier(4)

    def one_run(_: int) -> dict[str, int]:
        together.wait()
        try:
            return run_job(moment)
        finally:
            db.reset()  # this thread's connection

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(one_run, range(4)))

    assert sum(outcome["late"] for outcome in outcomes) == 1, outcomes
    assert sum(outcome["no_shows"] for outcome in outcomes) == 1, outcomes
    assert told("walk.late") == sorted([(owner.id, None), (walker.id, None)])
    assert told("booking.cancelled") == sorted([(owner.id, "no_show"), (walker.id, "no_show")])
    voids = rows(database_url(), "SELECT count(*) AS n FROM booking_transitions WHERE to_status = 'cancelled'")
    assert voids == [{"n": 1}]
    assert gateway().v1.payment_intents.retrieve(intent_of(gone["id"])).status == "canceled"
    assert gateway().v1.payment_intents.retrieve(intent_of(late["id"])).status == "requires_capture"
    assert profile_no_shows(api, walker, owner) == 1


def test_a_late_walk_moved_by_an_accepted_change_can_be_late_again_at_its_new_time(
    api: Api, owner: Caller, walker: Caller, card: str
) -> None:
    booking = accepted_walk(api, owner, walker, card, minutes_from_now=5)
    start = start_of(booking["id"])
    assert run_job(start + timedelta(minutes=16))["late"] == 1
    moved_to = next_weekday_at(11)  # within the walker's hours, whenever the tests run
    proposed = api.post(f"/v1/bookings/{booking['id']}/changes", json_body={"start": moved_to.isoformat()},
                        token=owner.token)  # fmt: skip
    assert proposed.status == 201, proposed.body
    accepted = api.post(f"/v1/bookings/{booking['id']}/changes/{proposed.json()['id']}/accept", token=walker.token)
    assert accepted.status == 200, accepted.body

    assert run_job(moved_to + timedelta(minutes=10))["late"] == 0
    assert run_job(moved_to + timedelta(minutes=16))["late"] == 1
    assert len(told("walk.late")) == 4  # both parties, at each of the two times
