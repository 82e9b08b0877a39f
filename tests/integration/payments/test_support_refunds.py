"""Refunds by support (`POST /v1/admin/bookings/{id}/refund`) on real PostgreSQL and localstripe:
part, then the rest, then one cent more (422); nothing captured (409); the platform pays, the
walker keeps their share; the gateway's own `charge.refunded` of our refund is already recorded;
an Idempotency-Key replay and a crash between the gateway's refund and our commit refund once at
the gateway and post once; the gateway down is 503 and records nothing. The trial balance sums
to zero after each."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from dogwalk.adapters import faults
from dogwalk.payments import ledger
from tests.integration.bookings.conftest import database_url, gateway, intent_of
from tests.integration.bookings.test_walk_and_capture import accepted_walk
from tests.integration.conftest import Answer, Api, assert_problem
from tests.integration.marketplace.conftest import Caller, rows
from tests.integration.payments.test_disputes import assert_balanced, dispute_of, tell
from tests.integration.payments.test_tips import balances, completed_walk
from tests.integration.payments.test_webhooks import deliver, event


def refund(api: Api, booking_id: str, admin: Caller, amount: int, *, key: str | None = None,
           reason: str = "The walker arrived 40 minutes late") -> Answer:  # fmt: skip
    headers = {"Idempotency-Key": key} if key else None
    body = {"amount_cents": amount, "reason": reason}
    return api.post(f"/v1/admin/bookings/{booking_id}/refund", json_body=body, token=admin.token, headers=headers)


def refunds_at_gateway(booking_id: str) -> list[int]:
    listed = gateway().v1.refunds.list(params={"payment_intent": intent_of(booking_id), "limit": 100})
    return sorted(each.amount for each in listed.auto_paging_iter())


def payment_of(api: Api, booking_id: str, who: Caller) -> dict[str, Any]:
    answer = api.get(f"/v1/bookings/{booking_id}/payment", token=who.token)
    assert answer.status == 200, answer.body
    return dict(answer.json())


def told_owner() -> list[dict[str, Any]]:
    return rows(database_url(), "SELECT recipient_id::text AS who, payload FROM outbox"
                                " WHERE event_type = 'payment.refunded' ORDER BY created_at")  # fmt: skip


def support_refund_postings() -> list[dict[str, Any]]:
    return rows(database_url(), "SELECT t.reference, e.account_id, e.amount_cents FROM ledger_transactions t"
                                " JOIN ledger_entries e ON e.transaction_id = t.id WHERE t.kind = 'refund'"
                                " ORDER BY t.reference, e.account_id")  # fmt: skip


def test_part_then_the_rest_then_one_cent_more_is_refused(api: Api, owner, walker, card, admin) -> None:
    booking = completed_walk(api, owner, walker, card)
    price = booking["price"]
    total, share = price["total_cents"], price["total_cents"] - price["service_fee_cents"]

    part = refund(api, booking["id"], admin, 1000)
    rest = refund(api, booking["id"], admin, total - 1000)
    more = refund(api, booking["id"], admin, 1)

    assert part.status == 200, part.body
    assert part.json() == {"status": "partially_refunded", "authorized_cents": total, "captured_cents": total,
                           "refunded_cents": 1000, "tip_cents": 0, "currency": "USD"}  # fmt: skip
    assert rest.status == 200, rest.body
    assert (rest.json()["status"], rest.json()["refunded_cents"]) == ("refunded", total)
    problem = assert_problem(more, 422, "validation_error")
    assert problem["detail"] == f"Only 0 of the {total} cents captured are left to refund."
    assert problem["errors"][0]["loc"] == ["body", "amount_cents"]
    assert payment_of(api, booking["id"], owner) == rest.json()
    assert refunds_at_gateway(booking["id"]) == sorted([1000, total - 1000])
    assert balances() == {
        ledger.GATEWAY_CLEARING: 0,
        ledger.REFUNDS: total,  # the platform pays for it all
        ledger.walker_payable(walker.id): -share,  # the walker keeps their share
        ledger.PLATFORM_REVENUE: -price["service_fee_cents"],
    }
    assert [(row["who"], row["payload"]["amount_cents"]) for row in told_owner()] == [
        (owner.id, 1000), (owner.id, total - 1000)]  # fmt: skip
    assert rows(database_url(), "SELECT status, amount_cents, reason FROM support_refunds ORDER BY created_at") == [
        {"status": "succeeded", "amount_cents": 1000, "reason": "The walker arrived 40 minutes late"},
        {"status": "succeeded", "amount_cents": total - 1000, "reason": "The walker arrived 40 minutes late"},
    ]
    assert_balanced(api, admin)


def test_too_much_at_once_is_422_and_changes_nothing(api: Api, owner, walker, card, admin) -> None:
    booking = completed_walk(api, owner, walker, card)
    total = booking["price"]["total_cents"]

    problem = assert_problem(refund(api, booking["id"], admin, total + 1), 422, "validation_error")

    assert problem["detail"] == f"Only {total} of the {total} cents captured are left to refund."
    assert refunds_at_gateway(booking["id"]) == []
    assert ledger.REFUNDS not in balances()
    assert payment_of(api, booking["id"], owner)["status"] == "captured"


def test_what_was_never_captured_cannot_be_refunded_and_only_admins_refund(
    api: Api, owner, walker, card, admin
) -> None:
    held = accepted_walk(api, owner, walker, card)  # authorized, not captured

    assert_problem(refund(api, held["id"], admin, 100), 409, "invalid_state")
    assert_problem(refund(api, str(uuid.uuid4()), admin, 100), 404, "not_found")
    assert_problem(refund(api, "not-a-booking", admin, 100), 404, "not_found")
    assert_problem(refund(api, held["id"], owner, 100), 403, "forbidden")
    assert_problem(refund(api, held["id"], walker, 100), 403, "forbidden")
    path = f"/v1/admin/bookings/{held['id']}/refund"
    for body in ({"amount_cents": 0, "reason": "x"}, {"amount_cents": 100}, {"amount_cents": "100", "reason": "x"},
                 {"amount_cents": 100, "reason": "   "}, {"amount_cents": 100, "reason": "x" * 501},
                 {"amount_cents": 100, "reason": "x", "walker_pays": True}):  # fmt: skip
        assert_problem(api.post(path, json_body=body, token=admin.token), 422, "validation_error")
    assert payment_of(api, held["id"], owner)["status"] == "authorized"
    assert rows(database_url(), "SELECT count(*) AS n FROM support_refunds") == [{"n": 0}]


def test_the_gateways_charge_refunded_for_our_refund_is_already_recorded(api: Api, owner, walker, card, admin) -> None:
    booking = completed_walk(api, owner, walker, card)
    assert refund(api, booking["id"], admin, 1500).status == 200
    charge = gateway().v1.payment_intents.retrieve(intent_of(booking["id"]), params={"expand": ["latest_charge"]})
    assert charge.latest_charge.amount_refunded == 1500

    answer = deliver(api, event("charge.refunded", charge.latest_charge))

    assert answer.json()["outcome"] == "already recorded"
    assert balances()[ledger.REFUNDS] == 1500
    assert len(told_owner()) == 1
    assert payment_of(api, booking["id"], owner)["refunded_cents"] == 1500
    assert_balanced(api, admin)


def test_a_refund_at_the_gateway_after_ours_is_posted_as_the_gateways(api: Api, owner, walker, card, admin) -> None:
    """Ours, then one made in the dashboard: the event records only the dashboard's."""
    booking = completed_walk(api, owner, walker, card)
    refund(api, booking["id"], admin, 1000)
    gateway().v1.refunds.create(params={"payment_intent": intent_of(booking["id"]), "amount": 400})
    charge = gateway().v1.payment_intents.retrieve(intent_of(booking["id"]), params={"expand": ["latest_charge"]})

    answer = deliver(api, event("charge.refunded", charge.latest_charge))

    assert answer.json()["outcome"] == "refund recorded"
    assert balances()[ledger.REFUNDS] == 1400
    assert payment_of(api, booking["id"], owner)["refunded_cents"] == 1400
    left = booking["price"]["total_cents"] - 1400
    assert_problem(refund(api, booking["id"], admin, left + 1), 422, "validation_error")
    assert refund(api, booking["id"], admin, left).json()["status"] == "refunded"
    assert_balanced(api, admin)


def test_an_idempotency_key_replay_answers_the_same_and_refunds_once(api: Api, owner, walker, card, admin) -> None:
    booking = completed_walk(api, owner, walker, card)

    first = refund(api, booking["id"], admin, 800, key="refund-retry-1")
    again = refund(api, booking["id"], admin, 800, key="refund-retry-1")
    other = refund(api, booking["id"], admin, 900, key="refund-retry-1")

    assert (first.status, again.status) == (200, 200)
    assert again.headers.get("idempotent-replayed") == "true" and again.json() == first.json()
    assert_problem(other, 409, "idempotency_conflict")
    assert refunds_at_gateway(booking["id"]) == [800]
    assert balances()[ledger.REFUNDS] == 800
    assert len(told_owner()) == 1
    assert_balanced(api, admin)


@pytest.mark.parametrize("retry_key", ["refund-crash-1", "a-new-key", None], ids=["same key", "new key", "no key"])
def test_a_crash_after_the_gateways_refund_refunds_once_on_retry(
    api: Api, owner, walker, card, admin, retry_key: str | None
) -> None:
    booking = completed_walk(api, owner, walker, card)
    with faults.injected("payments.refunded"):  # the container dies between the gateway and our commit
        assert refund(api, booking["id"], admin, 1200, key="refund-crash-1").status == 500
    assert refunds_at_gateway(booking["id"]) == [1200]
    assert payment_of(api, booking["id"], owner)["refunded_cents"] == 0  # nothing recorded yet
    assert_problem(refund(api, booking["id"], admin, 300), 409, "refund_in_progress")

    retried = refund(api, booking["id"], admin, 1200, key=retry_key)

    assert retried.status == 200, retried.body
    assert (retried.json()["status"], retried.json()["refunded_cents"]) == ("partially_refunded", 1200)
    assert refunds_at_gateway(booking["id"]) == [1200]
    (attempt,) = rows(database_url(), "SELECT id::text, status, gateway_id FROM support_refunds")
    assert attempt["status"] == "succeeded" and attempt["gateway_id"].startswith("re_")
    assert support_refund_postings() == [
        {"reference": f"support_refund:{attempt['id']}", "account_id": ledger.GATEWAY_CLEARING, "amount_cents": -1200},
        {"reference": f"support_refund:{attempt['id']}", "account_id": ledger.REFUNDS, "amount_cents": 1200},
    ]
    assert len(told_owner()) == 1
    assert_balanced(api, admin)


def test_a_lost_commit_is_settled_by_the_gateways_event_and_the_retry_finds_it_done(
    api: Api, owner, walker, card, admin
) -> None:
    booking = completed_walk(api, owner, walker, card)
    with faults.injected("payments.refunded"):
        assert refund(api, booking["id"], admin, 1200, key="refund-lost-1").status == 500
    charge = gateway().v1.payment_intents.retrieve(intent_of(booking["id"]), params={"expand": ["latest_charge"]})

    settled = deliver(api, event("charge.refunded", charge.latest_charge))
    retried = refund(api, booking["id"], admin, 1200, key="refund-lost-1")

    assert settled.json()["outcome"] == "support refund recorded"
    assert retried.status == 200 and retried.json()["refunded_cents"] == 1200, retried.body
    assert refunds_at_gateway(booking["id"]) == [1200]
    (attempt,) = rows(database_url(), "SELECT id::text, status FROM support_refunds")
    assert attempt["status"] == "succeeded"
    assert {row["reference"] for row in support_refund_postings()} == {f"support_refund:{attempt['id']}"}
    assert len(told_owner()) == 1
    assert_balanced(api, admin)


@contextmanager
def gateway_unreachable() -> Iterator[None]:
    """The payment gateway's address swapped for a port where nothing listens, then restored."""
    from dogwalk.config import settings
    from dogwalk.payments import gateway as payments_gateway

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    saved = os.environ["DOGWALK_STRIPE_API_BASE"]
    os.environ["DOGWALK_STRIPE_API_BASE"] = f"http://127.0.0.1:{port}"
    settings.cache_clear()
    payments_gateway._client.cache_clear()
    try:
        yield
    finally:
        os.environ["DOGWALK_STRIPE_API_BASE"] = saved
        settings.cache_clear()
        payments_gateway._client.cache_clear()


def test_the_gateway_down_is_503_records_nothing_and_the_retry_refunds_once(api: Api, owner, walker, card,
                                                                            admin) -> None:  # fmt: skip
    booking = completed_walk(api, owner, walker, card)
    before = (balances(), payment_of(api, booking["id"], owner))

    with gateway_unreachable():
        down = refund(api, booking["id"], admin, 700, key="refund-down-1")

    assert_problem(down, 503, "service_unavailable")
    assert (balances(), payment_of(api, booking["id"], owner)) == before
    assert told_owner() == [] and refunds_at_gateway(booking["id"]) == []
    retried = refund(api, booking["id"], admin, 700, key="refund-down-1")
    assert retried.status == 200 and retried.json()["refunded_cents"] == 700, retried.body
    assert refunds_at_gateway(booking["id"]) == [700]
    assert balances()[ledger.REFUNDS] == 700
    assert_balanced(api, admin)


def test_a_disputed_payment_is_not_refunded(api: Api, owner, walker, card, admin) -> None:
    booking = completed_walk(api, owner, walker, card)
    dispute = dispute_of(intent_of(booking["id"]))
    tell(api, "charge.dispute.created", dispute)

    assert_problem(refund(api, booking["id"], admin, 100), 409, "invalid_state")
    tell(api, "charge.dispute.closed", {**dispute, "status": "won"})
    assert refund(api, booking["id"], admin, 100).json()["status"] == "partially_refunded"  # won: refundable again
    assert refunds_at_gateway(booking["id"]) == [100]
    assert_balanced(api, admin)
