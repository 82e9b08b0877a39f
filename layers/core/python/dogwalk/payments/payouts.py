"""Walkers' earnings and their weekly payout, both read from the ledger.

A walker's payable account is credited by captures (the price less the fee), cancellation
charges and tips, and debited by payouts. What was credited more than 48 hours ago is
available (time to settle a dispute before the money leaves); the rest is pending. The weekly
job pays each walker's available balance once per ISO week.

Stripe Connect transfers need each walker's connected account (onboarding is not in the
product contract yet) and localstripe does not model Connect, so a payout is recorded here
(`status: recorded`) and in the ledger; the transfer is the step to add with onboarding."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from dogwalk.adapters import db
from dogwalk.events import outbox
from dogwalk.payments import ledger

HELD_FOR = timedelta(hours=48)
SHOWN_PAYOUTS = 52

_BALANCES = """
    SELECT coalesce(-sum(e.amount_cents), 0)::bigint AS owed,
           coalesce(-sum(e.amount_cents) FILTER (WHERE t.kind = 'payout' OR e.created_at <= %s), 0)::bigint
               AS available,
           coalesce(sum(e.amount_cents) FILTER (WHERE t.kind = 'payout'), 0)::bigint AS paid_out
      FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id
     WHERE e.account_id = %s
"""


def earnings(walker_id: str, *, now: datetime | None = None) -> dict[str, Any]:
    """What the walker is owed (pending and available), has been paid, and the latest payouts."""
    cutoff = (now or datetime.now(UTC)) - HELD_FOR
    with db.transaction() as conn:
        balances = conn.execute(_BALANCES, (cutoff, ledger.walker_payable(walker_id))).fetchone()
        payouts = conn.execute(
            "SELECT id::text, period, amount_cents, currency, status, created_at FROM payouts"
            " WHERE walker_id = %s ORDER BY created_at DESC LIMIT %s",
            (walker_id, SHOWN_PAYOUTS),
        ).fetchall()
    owed, available = (balances["owed"], max(balances["available"], 0)) if balances else (0, 0)
    return {
        "pending_cents": max(owed - available, 0),
        "available_cents": available,
        "paid_out_cents": balances["paid_out"] if balances else 0,
        "currency": "USD",
        "payouts": payouts,
    }


def period_of(moment: datetime) -> str:
    year, week, _ = moment.astimezone(UTC).isocalendar()
    return f"{year}-W{week:02d}"


def pay_out_all(*, now: datetime | None = None) -> dict[str, int]:
    """The weekly job: each walker with an available balance is paid it, once per week."""
    moment = now or datetime.now(UTC)
    with db.transaction() as conn:
        owed = [
            row["user_id"]
            for row in conn.execute(
                "SELECT a.user_id::text FROM ledger_accounts a"
                " WHERE a.kind = 'liability' AND a.user_id IS NOT NULL AND a.id LIKE 'walker:%%:payable'"
                "   AND EXISTS (SELECT 1 FROM ledger_entries e WHERE e.account_id = a.id AND e.created_at <= %s)"
                " ORDER BY a.user_id",
                (moment - HELD_FOR,),
            ).fetchall()
        ]
    paid = [pay_out(walker_id, now=moment) for walker_id in owed]
    made = [amount for amount in paid if amount]
    return {"walkers": len(made), "paid_cents": sum(made)}


def pay_out(walker_id: str, *, now: datetime | None = None) -> int:
    """Pay the walker's available balance for this week; the amount paid (0: nothing due, or
    paid already this week). Concurrent runs pay once: the walker is locked, the ledger
    reference is the walker and the week."""
    moment = now or datetime.now(UTC)
    period = period_of(moment)
    with db.transaction() as conn:
        conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"payout:{walker_id}",))
        balances = conn.execute(_BALANCES, (moment - HELD_FOR, ledger.walker_payable(walker_id))).fetchone()
        available = balances["available"] if balances else 0
        if available <= 0:
            return 0
        posted = ledger.post(
            conn,
            kind="payout",
            reference=f"payout:{walker_id}:{period}",
            description=f"weekly payout {period}",
            entries=[(ledger.walker_payable(walker_id), available), (ledger.GATEWAY_CLEARING, -available)],
        )
        if not posted.new:
            return 0
        payout_id = str(uuid.uuid4())
        conn.execute(
            "INSERT INTO payouts (id, walker_id, period, amount_cents, currency, status)"
            " VALUES (%s, %s, %s, %s, 'USD', 'recorded')",
            (payout_id, walker_id, period, available),
        )
        told = {"payout_id": payout_id, "amount_cents": available, "currency": "USD", "period": period}
        outbox.record(conn, "payout.sent", walker_id, "walker", told)
    return int(available)
