"""The double-entry ledger: posting balanced transactions (once per reference), balances, and
the trial balance. The database, not this code, guarantees balance and immutability (see
migration 0005): a transaction that does not sum to zero fails at commit."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from dogwalk.adapters.db import Connection

PLATFORM_REVENUE = "platform:revenue"
GATEWAY_CLEARING = "gateway:clearing"
REFUNDS = "platform:refunds"
# what card networks took back from the platform for disputed charges (chargebacks): an expense of
# the platform from the dispute's opening (its funds are withdrawn then), reversed if the dispute
# is won; a lost one stays, the platform's loss (the walker keeps what they earned)
DISPUTES = "platform:disputes"


def walker_payable(walker_id: str) -> str:
    return f"walker:{walker_id}:payable"


_KINDS = {
    PLATFORM_REVENUE: "revenue",
    GATEWAY_CLEARING: "asset",
    REFUNDS: "expense",
    DISPUTES: "expense",
}


def _kind_of(account: str) -> str:
    if account in _KINDS:
        return _KINDS[account]
    if account.startswith("walker:") and account.endswith(":payable"):
        return "liability"
    raise ValueError(f"unknown ledger account {account!r}")


def _user_of(account: str) -> str | None:
    parts = account.split(":")
    return parts[1] if parts[0] == "walker" and len(parts) == 3 else None


@dataclass(frozen=True)
class Posted:
    transaction_id: str
    new: bool


def post(
    conn: Connection,
    *,
    kind: str,
    reference: str,
    entries: list[tuple[str, int]],
    description: str = "",
    currency: str = "USD",
) -> Posted:
    """Post one transaction in the caller's database transaction; a second post with the same
    reference changes nothing and returns the first (a retried operation posts once)."""
    if sum(amount for _, amount in entries) != 0 or len(entries) < 2:
        raise ValueError("a ledger transaction needs two or more entries that sum to zero")
    transaction_id = str(uuid.uuid4())
    inserted = conn.execute(
        "INSERT INTO ledger_transactions (id, kind, reference, description) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (reference) DO NOTHING RETURNING id::text",
        (transaction_id, kind, reference, description),
    ).fetchone()
    if inserted is None:
        existing = conn.execute(
            "SELECT id::text FROM ledger_transactions WHERE reference = %s", (reference,)
        ).fetchone()
        if existing is None:  # unreachable: the conflict was on this reference
            raise RuntimeError(f"ledger reference {reference} vanished")
        return Posted(existing["id"], new=False)
    with conn.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO ledger_accounts (id, kind, user_id) VALUES (%s, %s, %s) ON CONFLICT (id) DO NOTHING",
            [(account, _kind_of(account), _user_of(account)) for account in sorted({a for a, _ in entries})],
        )
        cursor.executemany(
            "INSERT INTO ledger_entries (transaction_id, account_id, amount_cents, currency) VALUES (%s, %s, %s, %s)",
            [(transaction_id, account, amount, currency) for account, amount in entries if amount != 0],
        )
    return Posted(transaction_id, new=True)


def post_capture(
    conn: Connection, *, reference: str, description: str, walker_id: str, charged_cents: int, fee_cents: int
) -> Posted:
    """Money captured from an owner's card for a walk (its completion, or a late cancellation's
    share): the gateway holds it until it settles, the walker is owed the charge less the
    platform's part of the fee, and the platform earns that part."""
    return post(
        conn,
        kind="capture",
        reference=reference,
        description=description,
        entries=[
            (GATEWAY_CLEARING, charged_cents),
            (walker_payable(walker_id), -(charged_cents - fee_cents)),
            (PLATFORM_REVENUE, -fee_cents),
        ],
    )


def balance(conn: Connection, account: str) -> int:
    row = conn.execute(
        "SELECT coalesce(sum(amount_cents), 0)::bigint AS balance FROM ledger_entries WHERE account_id = %s",
        (account,),
    ).fetchone()
    return int(row["balance"]) if row else 0


def trial_balance(conn: Connection) -> list[dict[str, object]]:
    """Every account's balance (debits positive); they sum to zero."""
    return conn.execute(
        "SELECT a.id AS account, a.kind, e.currency, sum(e.amount_cents)::bigint AS balance_cents"
        "  FROM ledger_accounts a JOIN ledger_entries e ON e.account_id = a.id"
        " GROUP BY a.id, a.kind, e.currency ORDER BY a.id, e.currency"
    ).fetchall()
