"""Disputes (chargebacks) on real PostgreSQL and localstripe, through the signed webhook: a dispute
makes the booking's payment `disputed`, moves the disputed amount from the gateway's clearing to
`platform:disputes` and tells every admin; won gives it back, lost leaves it the platform's loss
(the walker keeps their share either way); duplicate, late and out-of-order events change
nothing twice; inquiries post nothing; the admin list pages newest first. The trial balance sums
to zero after each."""

from __future__ import annotations

import json
import os
import time
import typing
import urllib.error
import urllib.request
import uuid
from typing import Any

import pytest

from dogwalk.payments import disputes, ledger
from tests.integration.bookings.conftest import database_url, gateway, intent_of
from tests.integration.conftest import Api, assert_problem
from tests.integration.marketplace.conftest import Caller, new_caller, rows
from tests.integration.payments.test_tips import balances, completed_walk
from tests.integration.payments.test_webhooks import deliver, event

DISPUTES = "/v1/admin/disputes"


def dispute_of(intent_id: str, *, status: str = "needs_response", amount: int | None = None,
               gateway_id: str | None = None, reason: str = "fraudulent") -> dict[str, Any]:  # fmt: skip
    """The gateway's dispute of the PaymentIntent's charge, as Stripe's events carry it."""
    intent = gateway().v1.payment_intents.retrieve(intent_id)
    return {
        "id": gateway_id or f"dp_{uuid.uuid4().hex[:24]}",
        "object": "dispute",
        "amount": amount if amount is not None else intent.amount,
        "currency": "usd",
        "charge": getattr(intent.latest_charge, "id", intent.latest_charge),
        "payment_intent": intent_id,
        "reason": reason,
        "status": status,
        "created": int(time.time()),
        "is_charge_refundable": False,
        "balance_transactions": [],
        "evidence_details": {"due_by": int(time.time()) + 7 * 86400, "has_evidence": False},
        "metadata": {},
        "livemode": False,
    }


def tell(api: Api, kind: str, dispute: dict[str, Any], event_id: str | None = None) -> str:
    answer = deliver(api, event(kind, dispute, event_id))
    assert answer.status == 200, answer.body
    return str(answer.json()["outcome"])


def payment_status(api: Api, booking_id: str, who: Caller) -> str:
    return str(api.get(f"/v1/bookings/{booking_id}/payment", token=who.token).json()["status"])


def assert_balanced(api: Api, admin: Caller) -> None:
    answer = api.get("/v1/admin/ledger/trial-balance", token=admin.token)
    assert answer.status == 200 and answer.json()["total_cents"] == 0, answer.body
    assert sum(balances().values()) == 0


def told_admins() -> list[dict[str, Any]]:
    return rows(database_url(), "SELECT recipient_id::text AS who, recipient_role AS role, payload FROM outbox"
                                " WHERE event_type = 'payment.disputed' ORDER BY recipient_id")  # fmt: skip


def test_a_dispute_marks_the_payment_disputed_moves_the_money_and_tells_every_admin(
    api: Api, state, owner, walker, card, admin
) -> None:
    other_admin = new_caller(state, "admin")
    booking = completed_walk(api, owner, walker, card)
    price = booking["price"]
    total, share = price["total_cents"], price["total_cents"] - price["service_fee_cents"]
    dispute = dispute_of(intent_of(booking["id"]))

    assert tell(api, "charge.dispute.created", dispute) == "dispute opened"

    assert payment_status(api, booking["id"], owner) == "disputed"
    assert balances() == {
        ledger.GATEWAY_CLEARING: 0,  # what the capture put there, taken back by the card network
        ledger.DISPUTES: total,
        ledger.walker_payable(walker.id): -share,  # the walker keeps their share
        ledger.PLATFORM_REVENUE: -price["service_fee_cents"],
    }
    assert_balanced(api, admin)
    told = told_admins()
    assert sorted(row["who"] for row in told) == sorted([admin.id, other_admin.id])
    assert {row["role"] for row in told} == {"admin"}
    assert told[0]["payload"]["booking_id"] == booking["id"] and told[0]["payload"]["amount_cents"] == total
    listed = api.get(DISPUTES, token=admin.token).json()["items"]
    assert [(d["booking_id"], d["gateway_id"], d["amount_cents"], d["currency"], d["reason"], d["status"],
             d["of_tip"], d["closed_at"]) for d in listed] == [
        (booking["id"], dispute["id"], total, "USD", "fraudulent", "needs_response", False, None)
    ]  # fmt: skip


def test_a_won_dispute_gives_the_money_back_and_the_payment_its_status(api: Api, owner, walker, card, admin) -> None:
    booking = completed_walk(api, owner, walker, card)
    before = balances()
    dispute = dispute_of(intent_of(booking["id"]), amount=1000)
    tell(api, "charge.dispute.created", dispute)

    assert tell(api, "charge.dispute.closed", {**dispute, "status": "won"}) == "dispute won"

    assert payment_status(api, booking["id"], owner) == "captured"
    assert balances() == {**before, ledger.DISPUTES: 0}
    references = rows(database_url(), "SELECT reference, kind FROM ledger_transactions"
                                      " WHERE reference LIKE 'dispute:%%' ORDER BY reference")  # fmt: skip
    assert references == [{"reference": f"dispute:{dispute['id']}", "kind": "adjustment"},
                          {"reference": f"dispute:{dispute['id']}:given-back", "kind": "adjustment"}]  # fmt: skip
    (listed,) = api.get(DISPUTES, token=admin.token).json()["items"]
    assert listed["status"] == "won" and listed["closed_at"] is not None
    assert_balanced(api, admin)


def test_a_lost_dispute_stays_the_platforms_loss_and_the_walker_keeps_their_share(
    api: Api, owner, walker, card, admin
) -> None:
    booking = completed_walk(api, owner, walker, card)
    price = booking["price"]
    dispute = dispute_of(intent_of(booking["id"]))
    tell(api, "charge.dispute.created", dispute)

    assert tell(api, "charge.dispute.closed", {**dispute, "status": "lost"}) == "dispute lost"

    assert payment_status(api, booking["id"], owner) == "disputed"
    assert balances()[ledger.DISPUTES] == price["total_cents"]
    assert balances()[ledger.walker_payable(walker.id)] == -(price["total_cents"] - price["service_fee_cents"])
    assert balances()[ledger.PLATFORM_REVENUE] == -price["service_fee_cents"]
    assert_balanced(api, admin)


def test_duplicate_and_late_events_change_nothing(api: Api, owner, walker, card, admin) -> None:
    booking = completed_walk(api, owner, walker, card)
    dispute = dispute_of(intent_of(booking["id"]))
    created = event("charge.dispute.created", dispute, "evt_dispute_created")

    first, replayed = deliver(api, created), deliver(api, created)
    again = tell(api, "charge.dispute.created", dispute)  # the same news under another event id
    under_review = tell(api, "charge.dispute.updated", {**dispute, "status": "under_review"})
    older = tell(api, "charge.dispute.updated", {**dispute, "status": "needs_response"})
    closed = tell(api, "charge.dispute.closed", {**dispute, "status": "won"})
    late = [tell(api, kind, {**dispute, "status": status}) for kind, status in
            (("charge.dispute.created", "needs_response"), ("charge.dispute.closed", "lost"))]  # fmt: skip

    assert (first.json()["outcome"], replayed.json()["outcome"], again) == (
        "dispute opened", "duplicate", "already recorded")  # fmt: skip
    assert (under_review, older, closed, late) == (
        "dispute updated", "already recorded", "dispute won", ["already recorded", "already recorded"])  # fmt: skip
    assert rows(database_url(), "SELECT status FROM disputes") == [{"status": "won"}]
    assert rows(database_url(), "SELECT count(*) AS n FROM ledger_transactions WHERE kind = 'adjustment'") == [{"n": 2}]
    assert len(told_admins()) == 1
    assert payment_status(api, booking["id"], owner) == "captured"
    assert_balanced(api, admin)


@pytest.mark.parametrize("outcome", ["won", "lost"])
def test_a_closed_dispute_whose_created_never_came_is_recorded_and_closed_at_once(
    api: Api, owner, walker, card, admin, outcome: str
) -> None:
    booking = completed_walk(api, owner, walker, card)
    total = booking["price"]["total_cents"]
    dispute = dispute_of(intent_of(booking["id"]), status=outcome)

    assert tell(api, "charge.dispute.closed", dispute) == "dispute opened"
    assert tell(api, "charge.dispute.created", {**dispute, "status": "needs_response"}) == "already recorded"

    assert rows(database_url(), "SELECT status, closed_at IS NOT NULL AS closed FROM disputes") == [
        {"status": outcome, "closed": True}
    ]
    assert balances()[ledger.DISPUTES] == (0 if outcome == "won" else total)
    assert payment_status(api, booking["id"], owner) == ("captured" if outcome == "won" else "disputed")
    assert len(told_admins()) == 1
    assert_balanced(api, admin)


def test_an_inquiry_posts_nothing_until_it_becomes_a_chargeback(api: Api, owner, walker, card, admin) -> None:
    first, second = completed_walk(api, owner, walker, card), completed_walk(api, owner, walker, card)
    inquiry = dispute_of(intent_of(first["id"]), status="warning_needs_response", amount=500)
    closed_inquiry = dispute_of(intent_of(second["id"]), status="warning_needs_response", amount=700)

    assert tell(api, "charge.dispute.created", inquiry) == "dispute opened"
    assert tell(api, "charge.dispute.created", closed_inquiry) == "dispute opened"
    assert ledger.DISPUTES not in balances()
    assert tell(api, "charge.dispute.updated", {**inquiry, "status": "needs_response"}) == "dispute updated"
    assert (
        tell(api, "charge.dispute.closed", {**closed_inquiry, "status": "warning_closed"}) == "dispute warning_closed"
    )

    assert balances()[ledger.DISPUTES] == 500
    assert (payment_status(api, first["id"], owner), payment_status(api, second["id"], owner)) == (
        "disputed", "captured")  # fmt: skip
    assert_balanced(api, admin)


def test_a_dispute_of_a_tip_is_recorded_and_leaves_the_walks_payment_alone(
    api: Api, owner, walker, card, admin
) -> None:
    booking = completed_walk(api, owner, walker, card)
    assert (
        api.post(f"/v1/bookings/{booking['id']}/tip", json_body={"amount_cents": 700}, token=owner.token).status == 201
    )
    tip_intent = rows(database_url(), "SELECT payment_intent_id FROM tips")[0]["payment_intent_id"]

    assert tell(api, "charge.dispute.created", dispute_of(tip_intent)) == "dispute opened"

    assert payment_status(api, booking["id"], owner) == "captured"
    assert balances()[ledger.DISPUTES] == 700
    (listed,) = api.get(DISPUTES, token=admin.token).json()["items"]
    assert (listed["booking_id"], listed["of_tip"], listed["amount_cents"]) == (booking["id"], True, 700)
    assert told_admins()[0]["payload"]["tip"] is True
    assert_balanced(api, admin)


def test_a_dispute_of_a_payment_that_is_not_ours_is_acknowledged_and_ignored(api: Api) -> None:
    stranger = {"id": "dp_stranger", "amount": 100, "currency": "usd", "payment_intent": "pi_unknown",
                "charge": "ch_unknown", "reason": "general", "status": "needs_response",
                "created": int(time.time())}  # fmt: skip

    assert tell(api, "charge.dispute.created", stranger) == "unknown payment"
    assert tell(api, "charge.dispute.created", {**stranger, "id": "dp_odd", "status": "who knows"}) == "ignored"
    assert rows(database_url(), "SELECT count(*) AS n FROM disputes") == [{"n": 0}]


def test_the_admin_list_pages_newest_first_and_by_status(api: Api, owner, walker, card, admin) -> None:
    made = []
    for _ in range(3):
        booking = completed_walk(api, owner, walker, card)
        dispute = dispute_of(intent_of(booking["id"]))
        tell(api, "charge.dispute.created", dispute)
        made.append(dispute["id"])
    tell(api, "charge.dispute.closed", {**dispute_of(intent_of(booking["id"]), gateway_id=made[-1]), "status": "lost"})

    first = api.get(f"{DISPUTES}?limit=2", token=admin.token).json()
    second = api.get(f"{DISPUTES}?limit=2&cursor={first['next_cursor']}", token=admin.token).json()
    lost = api.get(f"{DISPUTES}?status=lost", token=admin.token).json()
    open_ones = api.get(f"{DISPUTES}?status=needs_response", token=admin.token).json()

    assert [d["gateway_id"] for d in first["items"] + second["items"]] == list(reversed(made))
    assert first["next_cursor"] and second["next_cursor"] is None
    assert [d["gateway_id"] for d in lost["items"]] == [made[-1]] and lost["next_cursor"] is None
    assert [d["gateway_id"] for d in open_ones["items"]] == [made[1], made[0]]
    assert_problem(api.get(DISPUTES, token=owner.token), 403, "forbidden")
    assert_problem(api.get(DISPUTES, token=walker.token), 403, "forbidden")
    assert_problem(api.get(DISPUTES), 401, "unauthorized")
    assert_problem(api.get(f"{DISPUTES}?status=maybe", token=admin.token), 422, "validation_error")
    assert_problem(api.get(f"{DISPUTES}?cursor=forged", token=admin.token), 422, "validation_error")


def test_the_list_takes_every_status_the_domain_knows() -> None:
    from payments.list_disputes import Status

    assert typing.get_args(Status) == disputes.STATUSES


def test_a_dispute_opened_and_won_at_the_local_gateway_is_recorded(api: Api, owner, walker, card, admin) -> None:
    """The dispute object of the local gateway's own control endpoints, as its events carry it."""
    booking = completed_walk(api, owner, walker, card)
    opened = local_gateway("/_local/disputes", {"payment_intent": intent_of(booking["id"]), "amount": 1200})
    closed = local_gateway(f"/_local/disputes/{opened['id']}/close", {"outcome": "won"})

    assert tell(api, "charge.dispute.created", opened) == "dispute opened"
    assert (balances()[ledger.DISPUTES], payment_status(api, booking["id"], owner)) == (1200, "disputed")
    assert tell(api, "charge.dispute.closed", closed) == "dispute won"
    assert (balances()[ledger.DISPUTES], payment_status(api, booking["id"], owner)) == (0, "captured")
    assert_balanced(api, admin)


def local_gateway(path: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(  # noqa: S310 - the local gateway the tests started
        os.environ["DOGWALK_STRIPE_API_BASE"].rstrip("/") + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310  # nosec B310
        return dict(json.loads(answer.read()))
