"""A connected account's status, read from the gateway's account object: the precedence of
`none`, `pending`, `enabled` and `restricted`, and what is listed as due."""

from __future__ import annotations

from typing import Any

import pytest

from dogwalk.payments.connect import requirements_due, status_of

DUE = ["external_account", "individual.dob.day"]


def account(*, submitted: bool = True, payouts: bool = True, transfers: str = "active", reason: str | None = None,
            due: list[str] | None = None) -> dict[str, Any]:  # fmt: skip
    return {
        "id": "acct_test",
        "details_submitted": submitted,
        "payouts_enabled": payouts,
        "capabilities": {"transfers": transfers},
        "requirements": {"currently_due": due or [], "past_due": [], "disabled_reason": reason},
    }


@pytest.mark.parametrize(
    ("described", "status"),
    [
        pytest.param(None, "none", id="no account"),
        pytest.param(
            account(submitted=False, payouts=False, transfers="inactive", reason="requirements.past_due", due=DUE),
            "pending",
            id="new: nothing submitted yet",
        ),
        pytest.param(account(), "enabled", id="onboarded"),
        pytest.param(account(due=DUE), "enabled", id="onboarded, more due later: still paid meanwhile"),
        pytest.param(
            account(payouts=False, transfers="inactive", reason="requirements.past_due", due=DUE),
            "restricted",
            id="submitted, then disabled for what is past due",
        ),
        pytest.param(account(payouts=False, reason="rejected.fraud"), "restricted", id="rejected"),
        pytest.param(
            account(payouts=False, transfers="pending", reason="requirements.pending_verification"),
            "pending",
            id="submitted, being verified",
        ),
        pytest.param(account(payouts=False, transfers="inactive", due=DUE), "pending", id="submitted, more due"),
        pytest.param(account(transfers="inactive"), "pending", id="payouts on but transfers not active"),
    ],
)
def test_status_of_an_account(described: dict[str, Any] | None, status: str) -> None:
    assert status_of(described) == status


def test_requirements_due_are_what_is_due_now_or_past_due_once_each() -> None:
    described = {"requirements": {"currently_due": ["b", "a"], "past_due": ["a", "c"], "eventually_due": ["z"]}}

    assert requirements_due(described) == ["a", "b", "c"]
    assert requirements_due({}) == []
