"""Walkers' earnings and the weekly payout on real PostgreSQL and localstripe, after walks
completed through HTTP: pending for 48 hours, then paid once per week (the payouts row, the
ledger's payout, the walker told), the trial balance still zero, concurrent runs paying once,
and the scheduled function. Time is a parameter (the ledger stamps the real now), so "49 hours
later" is `now + 49 h`."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from dogwalk.adapters import db
from dogwalk.payments import ledger, payouts
from local.runtime import LambdaContext
from tests.conftest import REPO, Dependencies
from tests.integration.bookings.conftest import EVERY_DAY, next_weekday_at, walk
from tests.integration.conftest import Api, assert_problem
from tests.integration.marketplace.conftest import Caller, create_dog, make_walker, rows, run_sql

LATER = timedelta(hours=49)  # past the 48 hours a walker's earnings are held


def completed_walk(api: Api, state: Dependencies, owner: Caller, walker: Caller, card: str) -> int:
    """A walk requested, accepted, started and completed through HTTP; the walker's share."""
    dog = create_dog(api, owner)["id"]
    answer = api.post("/v1/bookings", json_body={**walk(walker, [dog], next_weekday_at(10)),
                                                 "payment_method_id": card}, token=owner.token)  # fmt: skip
    assert answer.status == 201, answer.body
    booking = answer.json()
    assert api.post(f"/v1/bookings/{booking['id']}/accept", token=walker.token).status == 200
    run_sql(state.database_url, "UPDATE bookings SET start_ts = now() + interval '5 minutes',"
            " end_ts = now() + interval '65 minutes' WHERE id = %s", booking["id"])  # fmt: skip
    assert api.post(f"/v1/bookings/{booking['id']}/start", token=walker.token).status == 200
    assert api.post(f"/v1/bookings/{booking['id']}/complete", token=walker.token).status == 200
    price = booking["price"]
    share = price["total_cents"] - price["service_fee_cents"]
    assert share > 0
    return int(share)


def trial_balance() -> list[dict[str, Any]]:
    with db.transaction() as conn:
        return ledger.trial_balance(conn)


def balance_of(account: str) -> int:
    return int(sum(row["balance_cents"] for row in trial_balance() if row["account"] == account))


# --- earnings ------------------------------------------------------------------------------------


def test_a_completed_walk_is_pending_for_48_hours(api: Api, state: Dependencies, owner, walker, card) -> None:
    share = completed_walk(api, state, owner, walker, card)

    answer = api.get("/v1/walkers/me/earnings", token=walker.token)

    assert answer.status == 200, answer.body
    assert answer.json() == {
        "pending_cents": share,
        "available_cents": 0,
        "paid_out_cents": 0,
        "currency": "USD",
        "payouts": [],
    }


def test_after_48_hours_the_share_is_available(api: Api, state: Dependencies, owner, walker, card) -> None:
    share = completed_walk(api, state, owner, walker, card)
    now = datetime.now(UTC)

    assert payouts.earnings(walker.id, now=now + timedelta(hours=47))["available_cents"] == 0
    later = payouts.earnings(walker.id, now=now + LATER)
    assert (later["pending_cents"], later["available_cents"], later["paid_out_cents"]) == (0, share, 0)


def test_only_a_walker_reads_earnings(api: Api, admin, owner) -> None:
    for caller in (owner, admin):
        assert_problem(api.get("/v1/walkers/me/earnings", token=caller.token), 403, "forbidden")


# --- the payout ----------------------------------------------------------------------------------


def test_nothing_is_paid_out_within_48_hours(api: Api, state: Dependencies, owner, walker, card) -> None:
    completed_walk(api, state, owner, walker, card)
    now = datetime.now(UTC)

    assert payouts.pay_out_all(now=now) == {"walkers": 0, "paid_cents": 0}
    assert payouts.pay_out_all(now=now + timedelta(hours=47)) == {"walkers": 0, "paid_cents": 0}
    assert rows(state.database_url, "SELECT count(*) AS n FROM payouts") == [{"n": 0}]
    assert rows(state.database_url, "SELECT count(*) AS n FROM ledger_transactions WHERE kind = 'payout'") == [{"n": 0}]


def test_after_48_hours_the_walker_is_paid_their_share_once(api: Api, state: Dependencies, owner, walker, card) -> None:
    share = completed_walk(api, state, owner, walker, card)
    later = datetime.now(UTC) + LATER

    assert payouts.pay_out_all(now=later) == {"walkers": 1, "paid_cents": share}

    paid = rows(state.database_url, "SELECT id::text, walker_id::text, period, amount_cents, currency, status"
                " FROM payouts")  # fmt: skip
    assert paid == [{"id": paid[0]["id"], "walker_id": walker.id, "period": payouts.period_of(later),
                     "amount_cents": share, "currency": "USD", "status": "recorded"}]  # fmt: skip
    entries = rows(state.database_url, "SELECT e.account_id, e.amount_cents FROM ledger_entries e"
                   " JOIN ledger_transactions t ON t.id = e.transaction_id WHERE t.kind = 'payout'")  # fmt: skip
    assert sorted((e["account_id"], e["amount_cents"]) for e in entries) == sorted(
        [(ledger.walker_payable(walker.id), share), (ledger.GATEWAY_CLEARING, -share)]
    )
    told = rows(state.database_url, "SELECT recipient_id::text AS who, recipient_role, payload FROM outbox"
                " WHERE event_type = 'payout.sent'")  # fmt: skip
    sent = {"payout_id": paid[0]["id"], "amount_cents": share, "currency": "USD", "period": payouts.period_of(later)}
    assert told == [{"who": walker.id, "recipient_role": "walker", "payload": sent}]
    after = payouts.earnings(walker.id, now=later)
    assert (after["pending_cents"], after["available_cents"], after["paid_out_cents"]) == (0, 0, share)
    assert [p["amount_cents"] for p in after["payouts"]] == [share]
    assert sum(row["balance_cents"] for row in trial_balance()) == 0
    assert balance_of(ledger.walker_payable(walker.id)) == 0

    assert payouts.pay_out_all(now=later) == {"walkers": 0, "paid_cents": 0}
    assert payouts.pay_out(walker.id, now=later) == 0
    assert rows(state.database_url, "SELECT count(*) AS n FROM payouts") == [{"n": 1}]


def test_the_walker_sees_the_payout_in_their_earnings(api: Api, state: Dependencies, owner, walker, card) -> None:
    share = completed_walk(api, state, owner, walker, card)
    later = datetime.now(UTC) + LATER
    payouts.pay_out_all(now=later)

    answer = api.get("/v1/walkers/me/earnings", token=walker.token)

    assert answer.status == 200, answer.body
    earned = answer.json()
    assert (earned["pending_cents"], earned["available_cents"], earned["paid_out_cents"]) == (0, 0, share)
    [payout] = earned["payouts"]
    assert (payout["amount_cents"], payout["currency"], payout["status"]) == (share, "USD", "recorded")
    assert payout["period"] == payouts.period_of(later)


def test_money_earned_after_this_weeks_payout_waits_for_next_week(
    api: Api, state: Dependencies, owner, walker, card
) -> None:
    first = completed_walk(api, state, owner, walker, card)
    later = datetime.now(UTC) + LATER
    assert payouts.pay_out(walker.id, now=later) == first
    second = completed_walk(api, state, owner, walker, card)

    assert payouts.pay_out(walker.id, now=later) == 0  # the same week: paid already
    waiting = payouts.earnings(walker.id, now=later)
    assert (waiting["available_cents"], waiting["paid_out_cents"]) == (second, first)
    next_week = later + timedelta(days=7)
    assert payouts.pay_out_all(now=next_week) == {"walkers": 1, "paid_cents": second}
    periods = rows(state.database_url, "SELECT period, amount_cents FROM payouts ORDER BY created_at")
    assert periods == [
        {"period": payouts.period_of(later), "amount_cents": first},
        {"period": payouts.period_of(next_week), "amount_cents": second},
    ]
    assert balance_of(ledger.walker_payable(walker.id)) == 0


def test_each_walker_is_paid_their_own_share(api: Api, state: Dependencies, admin, owner, walker, card) -> None:
    other = make_walker(api, state, admin, weekly=EVERY_DAY, price_cents_per_30min=3100)
    mine, theirs = completed_walk(api, state, owner, walker, card), completed_walk(api, state, owner, other, card)
    assert mine != theirs

    assert payouts.pay_out_all(now=datetime.now(UTC) + LATER) == {"walkers": 2, "paid_cents": mine + theirs}

    paid = rows(state.database_url, "SELECT walker_id::text, amount_cents FROM payouts")
    assert {row["walker_id"]: row["amount_cents"] for row in paid} == {walker.id: mine, other.id: theirs}
    assert sum(row["balance_cents"] for row in trial_balance()) == 0


def test_eight_concurrent_payouts_of_one_walker_pay_once(api: Api, state: Dependencies, owner, walker, card) -> None:
    share = completed_walk(api, state, owner, walker, card)
    later = datetime.now(UTC) + LATER
    together = threading.Barrier(8)

    def pay() -> int:
        try:
            together.wait(timeout=10)
            return payouts.pay_out(walker.id, now=later)
        finally:
            db.reset()  # this thread's connection

    with ThreadPoolExecutor(max_workers=8) as pool:
        paid = [future.result() for future in [pool.submit(pay) for _ in range(8)]]

    assert sorted(paid) == [0] * 7 + [share]
    assert rows(state.database_url, "SELECT count(*) AS n FROM payouts") == [{"n": 1}]
    assert rows(state.database_url, "SELECT count(*) AS n FROM ledger_transactions WHERE kind = 'payout'") == [{"n": 1}]
    assert rows(state.database_url, "SELECT count(*) AS n FROM outbox WHERE event_type = 'payout.sent'") == [{"n": 1}]
    assert balance_of(ledger.walker_payable(walker.id)) == 0


# --- the scheduled function ----------------------------------------------------------------------


def run_payouts(at: datetime) -> dict[str, int]:
    """The weekly function, as EventBridge invokes it at `at` (the scheduled event's `time`)."""
    from payments import pay_out_walkers

    event = json.loads((REPO / "events" / "pay_out_walkers.json").read_text())
    event["time"] = at.isoformat().replace("+00:00", "Z")
    return pay_out_walkers.lambda_handler(event, LambdaContext("pay_out_walkers"))


def test_the_weekly_function_pays_what_is_available_at_its_scheduled_time_and_returns_its_counts(
    api: Api, state: Dependencies, owner, walker, card
) -> None:
    share = completed_walk(api, state, owner, walker, card)
    now = datetime.now(UTC)
    assert run_payouts(now) == {"walkers": 0, "paid_cents": 0}  # today: still held

    assert run_payouts(now + LATER) == {"walkers": 1, "paid_cents": share}
    assert run_payouts(now + LATER) == {"walkers": 0, "paid_cents": 0}
    assert rows(state.database_url, "SELECT walker_id::text, amount_cents FROM payouts") == [
        {"walker_id": walker.id, "amount_cents": share}
    ]
