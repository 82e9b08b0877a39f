"""Booking changes racing other requests, each thread on its own database connection as concurrent
Lambdas are, against real PostgreSQL and localstripe: a change accepted while its booking is
cancelled; one change accepted twice at once; two walks of one walker moved into the same time at
once (the exclusion constraint lets one through). Afterwards the money is consistent: at most the
booking's own hold stands at the gateway, of the amount the booking records, and nothing is held
twice."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from dogwalk.adapters import db
from dogwalk.bookings import changes, lifecycle
from dogwalk.errors import DomainError
from tests.integration.bookings.conftest import database_url, gateway, intent_of, next_weekday_at
from tests.integration.bookings.test_changes import accepted, change
from tests.integration.conftest import Api
from tests.integration.marketplace.conftest import Caller, rows


def at_once(*calls: Callable[[], Any]) -> list[tuple[str, Any]]:
    """Run the calls together; each one's ("ok", result) or ("error", its code)."""
    together = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> tuple[str, Any]:
        together.wait()
        try:
            return "ok", call()
        except DomainError as exc:
            return "error", exc.code
        finally:
            db.reset()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def holds_of(owner: Caller) -> list[Any]:
    """The owner's PaymentIntents still holding money at the gateway."""
    customer = rows(database_url(), "SELECT gateway_id FROM payment_customers WHERE owner_id = %s", owner.id)
    every = gateway().v1.payment_intents.list(params={"limit": 100}).auto_paging_iter()
    return [i for i in every if i.customer == customer[0]["gateway_id"] and i.status == "requires_capture"]


def money_of(booking_id: str) -> dict[str, Any]:
    query = ("SELECT status, payment_status, payment_intent_id, authorized_cents, captured_cents,"
             " (price->>'total_cents')::int AS total, start_ts FROM bookings WHERE id = %s")  # fmt: skip
    found = rows(database_url(), query, booking_id)
    return found[0]


def test_a_change_accepted_while_the_walk_is_cancelled_leaves_nothing_held(api: Api, owner: Caller, walker: Caller,
                                                                           card: str) -> None:  # fmt: skip
    outcomes = set()
    for hour in (8, 11, 14):  # a few rounds: either may come first
        booking = accepted(api, owner, walker, card, next_weekday_at(hour))
        made = change(api, owner, booking["id"], duration_min=120).json()

        accept, cancel = at_once(lambda b=booking, m=made: changes.accept(b["id"], m["id"], walker.id),
                                 lambda b=booking: lifecycle.cancel(b["id"], owner.id, "plans changed"))  # fmt: skip

        assert cancel[0] == "ok", cancel  # a cancellation ≥ 24 h ahead always goes through
        assert accept in (("error", "invalid_state"),) or accept[0] == "ok", accept
        outcomes.add("change first" if accept[0] == "ok" else "cancel first")
        row = money_of(booking["id"])
        assert (row["status"], row["payment_status"], row["captured_cents"]) == ("cancelled", "voided", 0)
        expected_total = made["quote"]["total_cents"] if accept[0] == "ok" else booking["price"]["total_cents"]
        assert (row["total"], row["authorized_cents"]) == (expected_total, expected_total)
        assert cancel[1]["refund_cents"] == expected_total
        status = rows(database_url(), "SELECT status FROM booking_changes WHERE id = %s", made["id"])[0]["status"]
        assert status == ("accepted" if accept[0] == "ok" else "proposed")
    assert holds_of(owner) == []  # every hold, old or new, released
    assert rows(database_url(), "SELECT 1 FROM ledger_entries") == []
    print("orders seen:", outcomes)


def test_one_change_accepted_twice_at_once_is_applied_once(api: Api, owner: Caller, walker: Caller,
                                                           card: str) -> None:  # fmt: skip
    booking = accepted(api, owner, walker, card, next_weekday_at(10))
    made = change(api, owner, booking["id"], duration_min=120).json()

    answers = at_once(*[lambda: changes.accept(booking["id"], made["id"], walker.id)] * 3)

    assert sorted(kind for kind, _ in answers) == ["error", "error", "ok"], answers
    assert {code for kind, code in answers if kind == "error"} == {"invalid_state"}
    (held,) = holds_of(owner)
    row = money_of(booking["id"])
    assert (held.id, held.amount) == (row["payment_intent_id"], made["quote"]["total_cents"]) == (
        intent_of(booking["id"]), row["authorized_cents"])  # fmt: skip


def test_two_walks_moved_into_one_time_at_once_one_wins_by_the_constraint(api: Api, owner: Caller, walker: Caller,
                                                                          card: str) -> None:  # fmt: skip
    first = accepted(api, owner, walker, card, next_weekday_at(8))
    second = accepted(api, owner, walker, card, next_weekday_at(16))
    target = next_weekday_at(12).isoformat()
    moves = {b["id"]: change(api, owner, b["id"], start=target, duration_min=90).json() for b in (first, second)}
    before = {b["id"]: money_of(b["id"]) for b in (first, second)}

    answers = dict(zip(moves, at_once(*[lambda b=b, m=m: changes.accept(b, m["id"], walker.id)
                                        for b, m in moves.items()]), strict=True))  # fmt: skip

    assert sorted(kind for kind, _ in answers.values()) == ["error", "ok"], answers
    (loser,) = [b for b, (kind, _) in answers.items() if kind == "error"]
    (winner,) = [b for b in answers if b != loser]
    assert answers[loser] == ("error", "booking_conflict")
    assert money_of(loser) == before[loser]  # nothing changed: time, price, its own hold
    assert rows(database_url(), "SELECT status FROM booking_changes WHERE id = %s", moves[loser]["id"]) == [
        {"status": "proposed"}]  # fmt: skip
    won = money_of(winner)
    assert won["total"] == won["authorized_cents"] == moves[winner]["quote"]["total_cents"]
    held = {i.id: i.amount for i in holds_of(owner)}
    assert held == {won["payment_intent_id"]: won["authorized_cents"],
                    before[loser]["payment_intent_id"]: before[loser]["authorized_cents"]}  # fmt: skip
