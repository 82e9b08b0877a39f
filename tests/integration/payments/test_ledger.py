"""The ledger's guarantees come from PostgreSQL: unbalanced transactions fail at commit, entries
never change, a reference posts once; and the trial balance always sums to zero."""

from __future__ import annotations

import random

import psycopg
import pytest
from psycopg.rows import dict_row

from dogwalk.payments import ledger
from tests.conftest import Dependencies, insert_user
from tests.integration.conftest import Api, assert_problem, token_for


def connect(state: Dependencies) -> psycopg.Connection:
    return psycopg.connect(state.database_url, autocommit=True, row_factory=dict_row)


def capture(conn: psycopg.Connection, reference: str, walker: str, subtotal: int, fee: int) -> ledger.Posted:
    return ledger.post(
        conn,
        kind="capture",
        reference=reference,
        entries=[
            (ledger.GATEWAY_CLEARING, subtotal + fee),
            (ledger.walker_payable(walker), -subtotal),
            (ledger.PLATFORM_REVENUE, -fee),
        ],
    )


def test_a_balanced_capture_is_posted_with_its_entries(state: Dependencies) -> None:
    walker = insert_user(state.database_url, "walker").id
    with connect(state) as conn, conn.transaction():
        posted = capture(conn, "capture:b1", walker, 4000, 400)

    with connect(state) as conn:
        assert posted.new
        assert ledger.balance(conn, ledger.walker_payable(walker)) == -4000
        assert ledger.balance(conn, ledger.PLATFORM_REVENUE) == -400
        assert ledger.balance(conn, ledger.GATEWAY_CLEARING) == 4400


def test_the_same_reference_posts_once(state: Dependencies) -> None:
    walker = insert_user(state.database_url, "walker").id
    with connect(state) as conn:
        with conn.transaction():
            first = capture(conn, "capture:b2", walker, 4000, 400)
        with conn.transaction():
            again = capture(conn, "capture:b2", walker, 4000, 400)

        assert (again.transaction_id, again.new) == (first.transaction_id, False)
        assert ledger.balance(conn, ledger.walker_payable(walker)) == -4000


def test_the_database_refuses_an_unbalanced_transaction_whatever_the_code_does(state: Dependencies) -> None:
    with connect(state) as conn:
        with pytest.raises(psycopg.errors.CheckViolation, match="does not balance"), conn.transaction():
            conn.execute(
                "INSERT INTO ledger_transactions (id, kind, reference)"
                " VALUES ('00000000-0000-4000-8000-00000000000a', 'adjustment', 'forged')"
            )
            conn.execute(
                "INSERT INTO ledger_accounts (id, kind) VALUES ('platform:revenue', 'revenue') ON CONFLICT DO NOTHING"
            )
            conn.execute(
                "INSERT INTO ledger_entries (transaction_id, account_id, amount_cents)"
                " VALUES ('00000000-0000-4000-8000-00000000000a', 'platform:revenue', 500)"
            )
        assert conn.execute("SELECT count(*) AS n FROM ledger_transactions").fetchone() == {"n": 0}


def test_the_code_refuses_to_post_an_unbalanced_transaction(state: Dependencies) -> None:
    with connect(state) as conn, pytest.raises(ValueError), conn.transaction():
        ledger.post(conn, kind="adjustment", reference="x", entries=[(ledger.PLATFORM_REVENUE, 1), (ledger.REFUNDS, 2)])


@pytest.mark.parametrize("statement", ["UPDATE ledger_entries SET amount_cents = 1", "DELETE FROM ledger_entries"])
def test_entries_can_never_be_changed_or_removed(state: Dependencies, statement: str) -> None:
    walker = insert_user(state.database_url, "walker").id
    with connect(state) as conn:
        with conn.transaction():
            capture(conn, "capture:b3", walker, 4000, 400)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement)


def test_the_trial_balance_sums_to_zero_after_200_random_operations(state: Dependencies) -> None:
    rng = random.Random(20261125)
    walkers = [insert_user(state.database_url, "walker").id for _ in range(5)]
    with connect(state) as conn:
        for index in range(200):
            walker = rng.choice(walkers)
            subtotal = rng.randint(1000, 20000)
            fee = round(subtotal / 10)
            operation = rng.choice(["capture", "refund", "tip", "payout", "retry"])
            with conn.transaction():
                if operation in ("capture", "retry"):
                    capture(conn, f"capture:{index if operation == 'capture' else 0}", walker, subtotal, fee)
                elif operation == "refund":
                    ledger.post(conn, kind="refund", reference=f"refund:{index}", entries=[
                        (ledger.REFUNDS, subtotal), (ledger.GATEWAY_CLEARING, -subtotal)])  # fmt: skip
                elif operation == "tip":
                    ledger.post(conn, kind="tip", reference=f"tip:{index}", entries=[
                        (ledger.GATEWAY_CLEARING, subtotal), (ledger.walker_payable(walker), -subtotal)])  # fmt: skip
                else:
                    paid = [(ledger.walker_payable(walker), subtotal), (ledger.GATEWAY_CLEARING, -subtotal)]
                    ledger.post(conn, kind="payout", reference=f"payout:{index}", entries=paid)
        rows = ledger.trial_balance(conn)

    assert sum(row["balance_cents"] for row in rows) == 0
    assert len(rows) > 3


def test_admins_read_the_trial_balance_others_may_not(api: Api, state: Dependencies) -> None:
    walker = insert_user(state.database_url, "walker")
    admin = insert_user(state.database_url, "admin")
    with connect(state) as conn, conn.transaction():
        capture(conn, "capture:b4", walker.id, 4000, 400)

    answer = api.get("/v1/admin/ledger/trial-balance", token=token_for(admin))

    assert answer.status == 200
    body = answer.json()
    assert body["total_cents"] == 0
    assert {row["account"]: row["balance_cents"] for row in body["accounts"]} == {
        "gateway:clearing": 4400, f"walker:{walker.id}:payable": -4000, "platform:revenue": -400}  # fmt: skip
    assert_problem(api.get("/v1/admin/ledger/trial-balance", token=token_for(walker)), 403, "forbidden")
