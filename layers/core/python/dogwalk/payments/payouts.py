"""Walkers' earnings and their weekly payout: a transfer to the walker's connected account.

A walker's payable account is credited by captures (the price less the fee), cancellation
charges and tips, and debited by payouts. What was credited more than 48 hours ago is available
(time to settle a dispute before the money leaves); the rest is pending.

The weekly job pays each walker's available balance with one Stripe transfer per walker and ISO
week (separate charges and transfers: owners' charges stay on the platform's account, which then
transfers each walker's share to their connected account; docs.stripe.com/connect/
separate-charges-and-transfers). The week's payout row is written before the gateway is called and
the ledger posts it only once the gateway answered with the transfer:

- `payout:<walker>:<week>` is the transfer's idempotency key, its `transfer_group`, and the ledger
  reference; the row is unique per walker and week. A crash between the gateway's answer and our
  commit leaves the row `pending`; the next run sends the same transfer with the same key and the
  gateway answers the transfer it made (after Stripe's 24 hours the key is gone, so an attempt
  that old is first looked for by its transfer group).
- A walker whose payouts are not enabled keeps the balance: one `awaiting_onboarding` row, moved
  on to each run's week with what is available then, nothing sent, nothing posted.
- A transfer the gateway refused or did not answer leaves the row `failed` (its error and
  attempts kept); every run retries it unchanged (same key, amount, destination and metadata)
  until it is paid. New earnings wait for a week without a payout of their own.
- A transfer reversed at the gateway (`transfer.reversed`) posts the amount back to the walker's
  payable account, under the `payout` kind, so that paid out is net of reversals.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from dogwalk.adapters import db, faults
from dogwalk.adapters.observability import logger
from dogwalk.errors import DomainError
from dogwalk.events import outbox
from dogwalk.payments import connect, gateway, ledger

HELD_FOR = timedelta(hours=48)
SHOWN_PAYOUTS = 52
# Stripe keeps an idempotency key 24 hours; an attempt older than this is looked up first
KEY_KEPT_FOR = timedelta(hours=23)
CURRENCY = "USD"

_BALANCES = """
    SELECT coalesce(-sum(e.amount_cents), 0)::bigint AS owed,
           coalesce(-sum(e.amount_cents) FILTER (WHERE t.kind = 'payout' OR e.created_at <= %s), 0)::bigint
               AS available,
           coalesce(sum(e.amount_cents) FILTER (WHERE t.kind = 'payout'), 0)::bigint AS paid_out
      FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id
     WHERE e.account_id = %s
"""

_PAYOUT_COLUMNS = "id::text, period, amount_cents, currency, status, transfer_id, reversed_cents, paid_at, created_at"


def earnings(walker_id: str, *, now: datetime | None = None) -> dict[str, Any]:
    """What the walker is owed (pending and available), has been paid, and the latest payouts."""
    cutoff = (now or datetime.now(UTC)) - HELD_FOR
    with db.transaction() as conn:
        balances = conn.execute(_BALANCES, (cutoff, ledger.walker_payable(walker_id))).fetchone()
        payouts = conn.execute(
            f"SELECT {_PAYOUT_COLUMNS} FROM payouts WHERE walker_id = %s"  # noqa: S608  # nosec B608
            " ORDER BY created_at DESC, id LIMIT %s",
            (walker_id, SHOWN_PAYOUTS),
        ).fetchall()
    owed, available = (balances["owed"], max(balances["available"], 0)) if balances else (0, 0)
    return {
        "pending_cents": max(owed - available, 0),
        "available_cents": available,
        "paid_out_cents": balances["paid_out"] if balances else 0,
        "currency": CURRENCY,
        "payouts": payouts,
    }


def period_of(moment: datetime) -> str:
    year, week, _ = moment.astimezone(UTC).isocalendar()
    return f"{year}-W{week:02d}"


def payout_key(walker_id: str, period: str) -> str:
    """The week's payout: its gateway idempotency key and transfer group, and its ledger reference."""
    return f"payout:{walker_id}:{period}"


@dataclass
class Outcome:
    """What one run did for one walker (or, summed, for all)."""

    paid_cents: int = 0  # transferred and posted by this run
    transfers: int = 0
    awaiting_cents: int = 0  # kept for walkers whose payouts are not enabled
    failed: int = 0  # transfers refused or unanswered, to retry next run

    def add(self, other: Outcome) -> None:
        self.paid_cents += other.paid_cents
        self.transfers += other.transfers
        self.awaiting_cents += other.awaiting_cents
        self.failed += other.failed


def pay_out_all(*, now: datetime | None = None) -> dict[str, int]:
    """The weekly job: each walker with an available balance (or a payout still to make) is paid,
    once per week; one walker's gateway failure does not stop the others'."""
    moment = now or datetime.now(UTC)
    with db.transaction() as conn:
        owed = [
            row["user_id"]
            for row in conn.execute(
                "SELECT a.user_id::text FROM ledger_accounts a"
                " WHERE a.kind = 'liability' AND a.user_id IS NOT NULL AND a.id LIKE 'walker:%%:payable'"
                "   AND EXISTS (SELECT 1 FROM ledger_entries e WHERE e.account_id = a.id AND e.created_at <= %s)"
                " UNION SELECT walker_id::text FROM payouts"
                "        WHERE status IN ('awaiting_onboarding', 'pending', 'failed')"
                " ORDER BY 1",
                (moment - HELD_FOR,),
            ).fetchall()
        ]
    total, paid_walkers, awaiting_walkers = Outcome(), 0, 0
    for walker_id in owed:
        try:
            outcome = pay_out(walker_id, now=moment)
        except DomainError as exc:  # the gateway could not tell us about the walker's account
            logger.warning("payout skipped", extra={"walker_id": walker_id, "error": str(exc)})
            outcome = Outcome(failed=1)
        total.add(outcome)
        paid_walkers += 1 if outcome.paid_cents else 0
        awaiting_walkers += 1 if outcome.awaiting_cents else 0
    return {
        "walkers": paid_walkers,
        "paid_cents": total.paid_cents,
        "transfers": total.transfers,
        "awaiting_onboarding": awaiting_walkers,
        "failed": total.failed,
    }


def pay_out(walker_id: str, *, now: datetime | None = None) -> Outcome:
    """This week's payout of the walker, and any earlier one still to make. Concurrent runs pay
    once: the walker is locked while the week's row is written, the row while its transfer is made."""
    moment = now or datetime.now(UTC)
    account = connect.enabled_account(walker_id)
    outcome = Outcome()
    with db.transaction() as conn:
        db.lock(conn, f"payout:{walker_id}")
        outcome.awaiting_cents = _plan(conn, walker_id, account, moment)
        to_send = [
            row["id"]
            for row in conn.execute(
                "SELECT id::text FROM payouts WHERE walker_id = %s AND status IN ('pending', 'failed')"
                " ORDER BY created_at",
                (walker_id,),
            ).fetchall()
        ]
    if account is not None:
        for payout_id in to_send:
            outcome.add(_send(payout_id))
    return outcome


def _plan(conn: db.Connection, walker_id: str, account: str | None, moment: datetime) -> int:
    """Write this week's payout row (new, or the walker's awaiting one moved on to this week) in
    the caller's transaction, `pending` to send or `awaiting_onboarding`; what is kept waiting."""
    period, cutoff = period_of(moment), moment - HELD_FOR
    payable = ledger.walker_payable(walker_id)
    balances = conn.execute(_BALANCES, (cutoff, payable)).fetchone()
    unpaid = conn.execute(
        "SELECT id::text, period, status, amount_cents FROM payouts"
        " WHERE walker_id = %s AND status IN ('awaiting_onboarding', 'pending', 'failed') FOR UPDATE",
        (walker_id,),
    ).fetchall()
    awaiting = next((row for row in unpaid if row["status"] == "awaiting_onboarding"), None)
    # what a transfer already tried will pay is not available again
    due = (balances["available"] if balances else 0) - sum(
        row["amount_cents"] for row in unpaid if row["status"] != "awaiting_onboarding"
    )
    this_week = conn.execute(
        "SELECT status FROM payouts WHERE walker_id = %s AND period = %s", (walker_id, period)
    ).fetchone()
    if due <= 0 or (this_week is not None and this_week["status"] != "awaiting_onboarding"):
        return awaiting["amount_cents"] if awaiting and account is None else 0  # paid this week already, or nothing
    bookings = conn.execute(_BOOKINGS_SINCE_LAST_PAYOUT, (payable, cutoff, walker_id)).fetchall()
    status = "pending" if account else "awaiting_onboarding"
    values = (period, due, status, account, cutoff, [row["booking_id"] for row in bookings])
    if awaiting is not None:
        conn.execute(
            "UPDATE payouts SET period = %s, amount_cents = %s, status = %s, account_id = %s, earned_until = %s,"
            " booking_ids = %s, first_attempt_at = CASE WHEN %s = 'pending' THEN now() END, updated_at = now()"
            " WHERE id = %s",
            (*values, status, awaiting["id"]),
        )
    else:
        conn.execute(
            "INSERT INTO payouts (id, walker_id, period, amount_cents, currency, status, account_id, earned_until,"
            " booking_ids, first_attempt_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s,"
            " CASE WHEN %s = 'pending' THEN now() END)",
            (str(uuid.uuid4()), walker_id, period, due, CURRENCY, status, account, cutoff, values[-1], status),
        )
    return due if account is None else 0


# the walks (and tips) credited to the walker after what the last payout paid, up to `cutoff`
_BOOKINGS_SINCE_LAST_PAYOUT = """
    SELECT DISTINCT split_part(t.reference, ':', 2)::uuid AS booking_id
      FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id
     WHERE e.account_id = %s AND e.amount_cents < 0 AND e.created_at <= %s
       AND t.reference ~ '^(capture|cancellation|tip):[0-9a-f-]{36}$'
       AND e.created_at > coalesce((SELECT max(earned_until) FROM payouts
                                     WHERE walker_id = %s AND status <> 'awaiting_onboarding'), '-infinity')
     ORDER BY 1
"""


def _metadata(payout: dict[str, Any], walker_id: str) -> dict[str, str]:
    """What links the transfer to the week and the walks it pays (Stripe keeps 500 characters a value)."""
    bookings = [str(booking) for booking in payout["booking_ids"]]
    listed = ",".join(bookings[: 500 // 37])
    return {
        "walker_id": walker_id,
        "payout_id": payout["id"],
        "period": payout["period"],
        "earned_until": payout["earned_until"].isoformat() if payout["earned_until"] else "",
        "booking_count": str(len(bookings)),
        "bookings": listed,
    }


def _send(payout_id: str) -> Outcome:
    """Make the payout's transfer and post it, the row locked meanwhile (a concurrent run waits,
    then finds it paid). Refused or unanswered: the row is `failed`, to retry as it is."""
    with db.transaction() as conn:
        payout = conn.execute(
            "SELECT id::text, walker_id::text, period, amount_cents, currency, status, account_id, earned_until,"
            " booking_ids, first_attempt_at, attempts FROM payouts WHERE id = %s FOR UPDATE",
            (payout_id,),
        ).fetchone()
        if payout is None or payout["status"] not in ("pending", "failed"):
            return Outcome()
        walker_id, amount, key = (
            payout["walker_id"],
            payout["amount_cents"],
            payout_key(payout["walker_id"], payout["period"]),
        )
        try:
            transfer_id = None
            first = payout["first_attempt_at"]
            if first is not None and datetime.now(UTC) - first > KEY_KEPT_FOR:
                transfer_id = gateway.transfer_in_group(payout["account_id"], key)
            transfer_id = transfer_id or gateway.transfer(
                amount_cents=amount, currency=payout["currency"], destination=payout["account_id"], key=key,
                group=key, metadata=_metadata(payout, walker_id),
            )  # fmt: skip
        except gateway.TransferFailed as exc:
            conn.execute(
                "UPDATE payouts SET status = 'failed', attempts = attempts + 1, last_error = %s, updated_at = now()"
                " WHERE id = %s",
                (str(exc), payout_id),
            )
            logger.warning("payout transfer failed", extra={"payout_id": payout_id, "error": str(exc)})
            return Outcome(failed=1)
        faults.point("payouts.transferred")
        ledger.post(
            conn,
            kind="payout",
            reference=key,
            description=f"weekly payout {payout['period']}, transfer {transfer_id}",
            entries=[(ledger.walker_payable(walker_id), amount), (ledger.GATEWAY_CLEARING, -amount)],
            currency=payout["currency"],
        )
        conn.execute(
            "UPDATE payouts SET status = 'paid', transfer_id = %s, attempts = attempts + 1, last_error = NULL,"
            " paid_at = now(), updated_at = now() WHERE id = %s",
            (transfer_id, payout_id),
        )
        told = {"payout_id": payout_id, "amount_cents": amount, "currency": payout["currency"],
                "period": payout["period"], "transfer_id": transfer_id}  # fmt: skip
        outbox.record(conn, "payout.sent", walker_id, "walker", told)
    return Outcome(paid_cents=amount, transfers=1)


def transfer_reversed(conn: db.Connection, transfer: dict[str, Any]) -> str:
    """The gateway's `transfer.reversed`: what its reversals took back from the walker's connected
    account is owed to the walker again (posted once per cumulative amount, like refunds)."""
    reversed_cents = transfer.get("amount_reversed")
    if not isinstance(reversed_cents, int) or isinstance(reversed_cents, bool) or reversed_cents <= 0:
        return "ignored"
    payout = conn.execute(
        "SELECT id::text, walker_id::text, amount_cents, reversed_cents, currency FROM payouts"
        " WHERE transfer_id = %s FOR UPDATE",
        (transfer.get("id"),),
    ).fetchone()
    if payout is None:
        return "unknown transfer"
    reversed_cents = min(reversed_cents, payout["amount_cents"])
    more = reversed_cents - payout["reversed_cents"]
    if more <= 0:
        return "already recorded"
    ledger.post(
        conn,
        kind="payout",
        reference=f"payout_reversal:{transfer['id']}:{reversed_cents}",
        description=f"transfer {transfer['id']} reversed",
        entries=[(ledger.GATEWAY_CLEARING, more), (ledger.walker_payable(payout["walker_id"]), -more)],
        currency=payout["currency"],
    )
    conn.execute(
        "UPDATE payouts SET status = 'reversed', reversed_cents = %s, updated_at = now() WHERE id = %s",
        (reversed_cents, payout["id"]),
    )
    return "reversal recorded"
