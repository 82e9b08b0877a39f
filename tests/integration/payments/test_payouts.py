"""Walkers' earnings and the weekly payout on real PostgreSQL and localstripe, after walks
completed through HTTP: pending for 48 hours, then transferred to the walker's connected account
(onboarded through the gateway's page) once per week: one transfer at the gateway, the payouts
row, the ledger's payout, the walker told; the trial balance still zero; concurrent runs paying
once; a walker not onboarded keeping the balance until they are; a refused or unanswered transfer
retried with the same idempotency key; a crash between the transfer and our commit replayed, not
repeated; a transfer reversed at the gateway posted back; and the scheduled function. Time is a
parameter (the ledger stamps the real now), so "49 hours later" is `now + 49 h`."""

from __future__ import annotations

import json
import threading
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dogwalk.adapters import aws, db, faults
from dogwalk.config import settings
from dogwalk.payments import gateway, ledger, payouts
from local.runtime import LambdaContext
from tests.conftest import REPO, Dependencies
from tests.gateway_events import PLATFORM_PATH, GatewayEvents
from tests.integration.bookings.conftest import EVERY_DAY, next_weekday_at, walk
from tests.integration.bookings.conftest import gateway as gateway_client
from tests.integration.conftest import Api, assert_problem
from tests.integration.marketplace.conftest import Caller, create_dog, make_walker, rows, run_sql
from tests.integration.payments.conftest import PLATFORM_WEBHOOK, deliver, onboard, start_onboarding

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


# --- the payout ---------------------------------------------------------------------------------


@pytest.fixture
def onboarded(api: Api, state: Dependencies, gateway_events: GatewayEvents, walker: Caller) -> str:
    """The walker's connected account, onboarded (its account.updated delivered to our webhook)."""
    return onboard(api, state, gateway_events, walker)


def ran(paid_walkers: int = 0, paid_cents: int = 0, *, transfers: int | None = None, awaiting: int = 0,
        failed: int = 0) -> dict[str, int]:  # fmt: skip
    """What `pay_out_all` answers."""
    return {"walkers": paid_walkers, "paid_cents": paid_cents,
            "transfers": paid_walkers if transfers is None else transfers, "awaiting_onboarding": awaiting,
            "failed": failed}  # fmt: skip


def transfers_to(account: str) -> list[Any]:
    """The transfers at the gateway to the connected account, newest first, as the SDK lists them."""
    return list(gateway_client().v1.transfers.list(params={"destination": account, "limit": 100}).auto_paging_iter())


def count(database_url: str, sql: str, *params: Any) -> int:
    return int(rows(database_url, f"SELECT count(*) AS n FROM {sql}", *params)[0]["n"])  # noqa: S608


def payout_rows(database_url: str) -> list[dict[str, Any]]:
    return rows(database_url, "SELECT id::text, walker_id::text, period, amount_cents, status, transfer_id, attempts,"
                " last_error, reversed_cents FROM payouts ORDER BY created_at")  # fmt: skip


def payout_postings(database_url: str) -> int:
    return count(database_url, "ledger_transactions WHERE kind = 'payout' AND reference LIKE 'payout:%%'")


def fail_next_transfers(number: int, status: int = 400) -> None:
    request = urllib.request.Request(  # noqa: S310 - the local gateway
        f"{settings().stripe_api_base}/_local/transfers/fail_next", method="POST",
        data=json.dumps({"count": number, "status": status}).encode(), headers={"Content-Type": "application/json"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
        assert answer.status == 200


def test_nothing_is_paid_out_within_48_hours(api: Api, state: Dependencies, owner, walker, card, onboarded) -> None:
    completed_walk(api, state, owner, walker, card)
    now = datetime.now(UTC)

    assert payouts.pay_out_all(now=now) == ran()
    assert payouts.pay_out_all(now=now + timedelta(hours=47)) == ran()
    assert rows(state.database_url, "SELECT count(*) AS n FROM payouts") == [{"n": 0}]
    assert rows(state.database_url, "SELECT count(*) AS n FROM ledger_transactions WHERE kind = 'payout'") == [{"n": 0}]
    assert transfers_to(onboarded) == []


def test_after_48_hours_the_walkers_share_is_transferred_to_their_account_once(
    api: Api, state: Dependencies, owner, walker, card, onboarded
) -> None:
    share = completed_walk(api, state, owner, walker, card)
    [booking] = rows(state.database_url, "SELECT id::text FROM bookings WHERE walker_id = %s", walker.id)
    later = datetime.now(UTC) + LATER
    period = payouts.period_of(later)

    assert payouts.pay_out_all(now=later) == ran(1, share)

    # one transfer at the gateway, to the walker's connected account, linked to the week and the walk
    [transfer] = transfers_to(onboarded)
    paid = payout_rows(state.database_url)
    assert paid == [{"id": paid[0]["id"], "walker_id": walker.id, "period": period, "amount_cents": share,
                     "status": "paid", "transfer_id": transfer.id, "attempts": 1, "last_error": None,
                     "reversed_cents": 0}]  # fmt: skip
    assert (transfer.amount, transfer.currency, transfer.destination) == (share, "usd", onboarded)
    assert transfer.transfer_group == f"payout:{walker.id}:{period}"
    metadata = transfer.to_dict()["metadata"]
    assert (metadata["payout_id"], metadata["walker_id"], metadata["period"]) == (paid[0]["id"], walker.id, period)
    assert (metadata["bookings"], metadata["booking_count"]) == (booking["id"], "1")
    # posted once the gateway answered: the walker's payable debited, the gateway's clearing credited
    entries = rows(state.database_url, "SELECT t.reference, e.account_id, e.amount_cents FROM ledger_entries e"
                   " JOIN ledger_transactions t ON t.id = e.transaction_id WHERE t.kind = 'payout'")  # fmt: skip
    assert sorted((e["reference"], e["account_id"], e["amount_cents"]) for e in entries) == sorted(
        [(f"payout:{walker.id}:{period}", ledger.walker_payable(walker.id), share),
         (f"payout:{walker.id}:{period}", ledger.GATEWAY_CLEARING, -share)]
    )  # fmt: skip
    told = rows(state.database_url, "SELECT recipient_id::text AS who, recipient_role, payload FROM outbox"
                " WHERE event_type = 'payout.sent'")  # fmt: skip
    sent = {"payout_id": paid[0]["id"], "amount_cents": share, "currency": "USD", "period": period,
            "transfer_id": transfer.id}  # fmt: skip
    assert told == [{"who": walker.id, "recipient_role": "walker", "payload": sent}]
    after = payouts.earnings(walker.id, now=later)
    assert (after["pending_cents"], after["available_cents"], after["paid_out_cents"]) == (0, 0, share)
    assert sum(row["balance_cents"] for row in trial_balance()) == 0
    assert balance_of(ledger.walker_payable(walker.id)) == 0

    # a second run in the same week transfers nothing more
    assert payouts.pay_out_all(now=later) == ran()
    assert payouts.pay_out(walker.id, now=later) == payouts.Outcome()
    assert count(state.database_url, "payouts") == 1
    assert len(transfers_to(onboarded)) == 1
    assert payout_postings(state.database_url) == 1


def test_the_walker_sees_the_paid_payout_and_its_transfer_in_their_earnings(
    api: Api, state: Dependencies, owner, walker, card, onboarded
) -> None:
    share = completed_walk(api, state, owner, walker, card)
    later = datetime.now(UTC) + LATER
    payouts.pay_out_all(now=later)

    answer = api.get("/v1/walkers/me/earnings", token=walker.token)

    assert answer.status == 200, answer.body
    earned = answer.json()
    assert (earned["pending_cents"], earned["available_cents"], earned["paid_out_cents"]) == (0, 0, share)
    [payout] = earned["payouts"]
    [transfer] = transfers_to(onboarded)
    assert (payout["amount_cents"], payout["currency"], payout["status"]) == (share, "USD", "paid")
    assert (payout["transfer_id"], payout["reversed_cents"]) == (transfer.id, 0)
    assert payout["period"] == payouts.period_of(later)
    assert datetime.fromisoformat(payout["paid_at"]) <= datetime.now(UTC)


def test_money_earned_after_this_weeks_payout_waits_for_next_week(
    api: Api, state: Dependencies, owner, walker, card, onboarded
) -> None:
    first = completed_walk(api, state, owner, walker, card)
    later = datetime.now(UTC) + LATER
    assert payouts.pay_out(walker.id, now=later).paid_cents == first
    second = completed_walk(api, state, owner, walker, card)

    assert payouts.pay_out(walker.id, now=later) == payouts.Outcome()  # the same week: paid already
    waiting = payouts.earnings(walker.id, now=later)
    assert (waiting["available_cents"], waiting["paid_out_cents"]) == (second, first)
    next_week = later + timedelta(days=7)
    assert payouts.pay_out_all(now=next_week) == ran(1, second)
    periods = rows(state.database_url, "SELECT period, amount_cents, status FROM payouts ORDER BY created_at")
    assert periods == [
        {"period": payouts.period_of(later), "amount_cents": first, "status": "paid"},
        {"period": payouts.period_of(next_week), "amount_cents": second, "status": "paid"},
    ]
    assert sorted(transfer.amount for transfer in transfers_to(onboarded)) == sorted([first, second])
    assert balance_of(ledger.walker_payable(walker.id)) == 0


def test_each_walker_is_paid_their_own_share(
    api: Api, state: Dependencies, gateway_events: GatewayEvents, admin, owner, walker, card, onboarded
) -> None:
    other = make_walker(api, state, admin, weekly=EVERY_DAY, price_cents_per_30min=3100)
    theirs_account = onboard(api, state, gateway_events, other)
    mine, theirs = completed_walk(api, state, owner, walker, card), completed_walk(api, state, owner, other, card)
    assert mine != theirs

    assert payouts.pay_out_all(now=datetime.now(UTC) + LATER) == ran(2, mine + theirs)

    paid = rows(state.database_url, "SELECT walker_id::text, amount_cents FROM payouts")
    assert {row["walker_id"]: row["amount_cents"] for row in paid} == {walker.id: mine, other.id: theirs}
    assert [t.amount for t in transfers_to(onboarded)] == [mine]
    assert [t.amount for t in transfers_to(theirs_account)] == [theirs]
    assert sum(row["balance_cents"] for row in trial_balance()) == 0


def test_four_concurrent_runs_make_one_transfer(api: Api, state: Dependencies, owner, walker, card,
                                                onboarded) -> None:  # fmt: skip
    share = completed_walk(api, state, owner, walker, card)
    later = datetime.now(UTC) + LATER
    together = threading.Barrier(4)

    def run() -> dict[str, int]:
        try:
            together.wait(timeout=10)
            return payouts.pay_out_all(now=later)
        finally:
            db.reset()  # this thread's connection

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = [future.result() for future in [pool.submit(run) for _ in range(4)]]

    assert sorted(outcome["paid_cents"] for outcome in outcomes) == [0, 0, 0, share]
    assert [transfer.amount for transfer in transfers_to(onboarded)] == [share]
    assert count(state.database_url, "payouts") == 1
    assert payout_postings(state.database_url) == 1
    assert count(state.database_url, "outbox WHERE event_type = 'payout.sent'") == 1
    assert balance_of(ledger.walker_payable(walker.id)) == 0


# --- walkers without enabled payouts -------------------------------------------------------------


def test_a_walker_not_onboarded_keeps_the_balance_until_onboarded_then_is_paid_next_run(
    api: Api, state: Dependencies, gateway_events: GatewayEvents, owner, walker, card
) -> None:
    share = completed_walk(api, state, owner, walker, card)
    later = datetime.now(UTC) + LATER

    assert payouts.pay_out_all(now=later) == ran(awaiting=1)

    [waiting] = payout_rows(state.database_url)
    assert (waiting["status"], waiting["amount_cents"], waiting["transfer_id"]) == ("awaiting_onboarding", share, None)
    assert payout_postings(state.database_url) == 0
    assert balance_of(ledger.walker_payable(walker.id)) == -share  # still owed
    kept = payouts.earnings(walker.id, now=later)
    assert (kept["available_cents"], kept["paid_out_cents"]) == (share, 0)
    earned = api.get("/v1/walkers/me/earnings", token=walker.token).json()
    assert [(p["status"], p["amount_cents"], p["transfer_id"]) for p in earned["payouts"]] == [
        ("awaiting_onboarding", share, None)
    ]

    account = onboard(api, state, gateway_events, walker)
    assert payouts.pay_out_all(now=later) == ran(1, share)  # the next run, the same week

    [paid] = payout_rows(state.database_url)  # the same row, paid
    [transfer] = transfers_to(account)
    assert (paid["id"], paid["status"], paid["transfer_id"], paid["amount_cents"]) == (
        waiting["id"], "paid", transfer.id, share)  # fmt: skip
    assert payout_postings(state.database_url) == 1
    assert balance_of(ledger.walker_payable(walker.id)) == 0


def test_an_awaiting_payout_moves_on_to_the_week_of_each_run_with_what_is_available_then(
    api: Api, state: Dependencies, gateway_events: GatewayEvents, owner, walker, card
) -> None:
    first = completed_walk(api, state, owner, walker, card)
    later = datetime.now(UTC) + LATER
    start_onboarding(api, walker)  # an account, never completed
    assert payouts.pay_out_all(now=later) == ran(awaiting=1)
    second = completed_walk(api, state, owner, walker, card)
    next_week = later + timedelta(days=7)

    assert payouts.pay_out_all(now=next_week) == ran(awaiting=1)

    assert [(p["period"], p["status"], p["amount_cents"]) for p in payout_rows(state.database_url)] == [
        (payouts.period_of(next_week), "awaiting_onboarding", first + second)
    ]
    assert payout_postings(state.database_url) == 0


# --- failures ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "refusals", "error"),
    [
        pytest.param(400, 1, "400 balance_insufficient", id="refused: 400 balance_insufficient"),
        # the SDK retries a 5xx twice with the same key: three refusals make the run's attempt fail
        pytest.param(500, 3, "500 APIError", id="the gateway failing: 500"),
    ],
)
def test_a_failed_transfer_is_kept_and_the_next_run_makes_it_once(
    api: Api, state: Dependencies, owner, walker, card, onboarded, status: int, refusals: int, error: str
) -> None:
    share = completed_walk(api, state, owner, walker, card)
    later = datetime.now(UTC) + LATER
    fail_next_transfers(refusals, status)

    assert payouts.pay_out_all(now=later) == ran(failed=1)

    [failed] = payout_rows(state.database_url)
    assert (failed["status"], failed["transfer_id"], failed["attempts"]) == ("failed", None, 1)
    assert failed["last_error"].startswith(error), failed["last_error"]
    assert transfers_to(onboarded) == []
    assert payout_postings(state.database_url) == 0
    assert payouts.earnings(walker.id, now=later)["available_cents"] == share  # nothing left the ledger

    assert payouts.pay_out_all(now=later) == ran(1, share)  # the same key, the same transfer

    [paid] = payout_rows(state.database_url)
    [transfer] = transfers_to(onboarded)
    assert (paid["id"], paid["status"], paid["transfer_id"], paid["attempts"], paid["last_error"]) == (
        failed["id"], "paid", transfer.id, 2, None)  # fmt: skip
    assert payout_postings(state.database_url) == 1
    assert payouts.pay_out_all(now=later + timedelta(days=7)) == ran()
    assert len(transfers_to(onboarded)) == 1


def test_a_failed_payout_is_retried_unchanged_next_week_and_new_earnings_get_their_own(
    api: Api, state: Dependencies, owner, walker, card, onboarded
) -> None:
    first = completed_walk(api, state, owner, walker, card)
    later = datetime.now(UTC) + LATER
    fail_next_transfers(1)
    assert payouts.pay_out_all(now=later) == ran(failed=1)
    second = completed_walk(api, state, owner, walker, card)

    assert payouts.pay_out_all(now=later + timedelta(days=7)) == ran(1, first + second, transfers=2)

    assert [(p["period"], p["amount_cents"], p["status"]) for p in payout_rows(state.database_url)] == [
        (payouts.period_of(later), first, "paid"),
        (payouts.period_of(later + timedelta(days=7)), second, "paid"),
    ]
    assert sorted(t.amount for t in transfers_to(onboarded)) == sorted([first, second])
    assert payout_postings(state.database_url) == 2
    assert balance_of(ledger.walker_payable(walker.id)) == 0


def test_a_crash_after_the_transfer_is_replayed_by_the_retry_posted_once_and_transferred_once(
    api: Api, state: Dependencies, owner, walker, card, onboarded
) -> None:
    share = completed_walk(api, state, owner, walker, card)
    later = datetime.now(UTC) + LATER

    with faults.injected("payouts.transferred"), pytest.raises(faults.InjectedFault):
        payouts.pay_out(walker.id, now=later)  # the gateway made the transfer; our commit never came

    [pending] = payout_rows(state.database_url)
    [made] = transfers_to(onboarded)
    assert (pending["status"], pending["transfer_id"]) == ("pending", None)
    assert payout_postings(state.database_url) == 0

    assert payouts.pay_out_all(now=later) == ran(1, share)  # the same idempotency key: the gateway's first answer

    [paid] = payout_rows(state.database_url)
    assert (paid["id"], paid["status"], paid["transfer_id"]) == (pending["id"], "paid", made.id)
    assert [transfer.id for transfer in transfers_to(onboarded)] == [made.id]
    assert payout_postings(state.database_url) == 1
    assert balance_of(ledger.walker_payable(walker.id)) == 0


def test_a_crashed_attempt_older_than_the_gateways_key_is_found_by_its_transfer_group(
    api: Api, state: Dependencies, owner, walker, card, onboarded
) -> None:
    share = completed_walk(api, state, owner, walker, card)
    later = datetime.now(UTC) + LATER
    with faults.injected("payouts.transferred"), pytest.raises(faults.InjectedFault):
        payouts.pay_out(walker.id, now=later)
    [made] = transfers_to(onboarded)
    # a day on: the row's attempt is older than Stripe keeps a key, and (another API key here) the
    # gateway no longer knows the key, so only finding the transfer keeps it from being made twice
    run_sql(state.database_url, "UPDATE payouts SET first_attempt_at = now() - interval '25 hours'")
    credentials = {"api_key": "sk_test_a_day_later", "webhook_secret": "whsec_tests",
                   "connect_webhook_secret": "whsec_connect_tests"}  # fmt: skip
    aws.client("secretsmanager").put_secret_value(SecretId=settings().payments_secret_id,
                                                  SecretString=json.dumps(credentials))  # fmt: skip
    gateway._credentials.cache_clear()
    gateway._client.cache_clear()
    try:
        assert payouts.pay_out_all(now=later) == ran(1, share)
    finally:
        gateway._credentials.cache_clear()
        gateway._client.cache_clear()

    assert [transfer.id for transfer in transfers_to(onboarded)] == [made.id]
    assert payout_rows(state.database_url)[0]["transfer_id"] == made.id
    assert payout_postings(state.database_url) == 1


# --- reversals -----------------------------------------------------------------------------------


def test_a_transfer_reversed_at_the_gateway_is_posted_back_to_the_walker_once(
    api: Api, state: Dependencies, gateway_events: GatewayEvents, owner, walker, card, onboarded
) -> None:
    share = completed_walk(api, state, owner, walker, card)
    later = datetime.now(UTC) + LATER
    payouts.pay_out_all(now=later)
    [transfer] = transfers_to(onboarded)
    part = share // 3

    gateway_client().v1.transfers.reversals.create(transfer.id, params={"amount": part})
    delivery = gateway_events.wait_for(PLATFORM_PATH, "transfer.reversed", transfer.id)
    answer = deliver(api, delivery, PLATFORM_WEBHOOK)

    assert answer.status == 200 and answer.json()["outcome"] == "reversal recorded", answer.body
    [payout] = payout_rows(state.database_url)
    assert (payout["status"], payout["reversed_cents"], payout["transfer_id"]) == ("reversed", part, transfer.id)
    assert balance_of(ledger.walker_payable(walker.id)) == -part  # owed to the walker again
    assert sum(row["balance_cents"] for row in trial_balance()) == 0
    earned = api.get("/v1/walkers/me/earnings", token=walker.token).json()
    assert earned["paid_out_cents"] == share - part
    assert [(p["status"], p["reversed_cents"]) for p in earned["payouts"]] == [("reversed", part)]
    assert deliver(api, delivery, PLATFORM_WEBHOOK).json()["outcome"] == "duplicate"

    gateway_client().v1.transfers.reversals.create(transfer.id)  # the rest
    rest = gateway_events.wait_for(PLATFORM_PATH, "transfer.reversed", transfer.id, besides={delivery.event["id"]})
    assert deliver(api, rest, PLATFORM_WEBHOOK).json()["outcome"] == "reversal recorded"

    assert payout_rows(state.database_url)[0]["reversed_cents"] == share
    assert balance_of(ledger.walker_payable(walker.id)) == -share
    reversals = rows(state.database_url, "SELECT reference FROM ledger_transactions"
                     " WHERE reference LIKE 'payout_reversal:%%' ORDER BY reference")  # fmt: skip
    assert reversals == [{"reference": f"payout_reversal:{transfer.id}:{part}"},
                         {"reference": f"payout_reversal:{transfer.id}:{share}"}]  # fmt: skip
    # what was reversed is paid again, by a later week's payout
    assert payouts.pay_out_all(now=later + timedelta(days=7)) == ran(1, share)
    assert balance_of(ledger.walker_payable(walker.id)) == 0


# --- the scheduled function ----------------------------------------------------------------------


def run_payouts(at: datetime) -> dict[str, int]:
    """The weekly function, as EventBridge invokes it at `at` (the scheduled event's `time`)."""
    from payments import pay_out_walkers

    event = json.loads((REPO / "events" / "pay_out_walkers.json").read_text())
    event["time"] = at.isoformat().replace("+00:00", "Z")
    return pay_out_walkers.lambda_handler(event, LambdaContext("pay_out_walkers"))


def test_the_weekly_function_pays_what_is_available_at_its_scheduled_time_and_returns_its_counts(
    api: Api, state: Dependencies, owner, walker, card, onboarded
) -> None:
    share = completed_walk(api, state, owner, walker, card)
    now = datetime.now(UTC)
    assert run_payouts(now) == ran()  # today: still held

    assert run_payouts(now + LATER) == ran(1, share)
    assert run_payouts(now + LATER) == ran()
    assert rows(state.database_url, "SELECT walker_id::text, amount_cents, status FROM payouts") == [
        {"walker_id": walker.id, "amount_cents": share, "status": "paid"}
    ]
    assert len(transfers_to(onboarded)) == 1
