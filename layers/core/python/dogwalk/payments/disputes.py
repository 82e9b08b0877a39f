"""Disputes (chargebacks): a cardholder's bank disputes one of our charges and the gateway says so
with `charge.dispute.created`, `.updated` and `.closed`. This module keeps our copy of each
dispute, the booking's payment status and the ledger in step, and tells the admins.

The accounting. The card network takes the disputed amount from the platform's gateway balance
when a chargeback opens (Stripe withdraws it then), so the first event of a chargeback posts
(reference `dispute:<dp id>`, kind `adjustment`, as Stripe's balance names it):

    platform:disputes  +amount   debit: the platform's expense, until the dispute is decided
    gateway:clearing   -amount   credit: the gateway holds that much less of ours

Won: the network gives the money back, the same entries reversed (`dispute:<dp id>:given-back`).
Lost: nothing more; the debit stays in `platform:disputes`, the platform's loss. The walker's
payable is never touched, whatever the outcome: the walker keeps what they earned (as with a
refund). An inquiry (the `warning_*` statuses: the bank asks, no funds are withdrawn) is recorded
and told but posts nothing unless it becomes a chargeback. The gateway's dispute fee is not in
the dispute's events (Stripe charges it as a balance transaction of its own) and is not posted.

Every event carries the whole dispute, so one applier takes all three, in any order: the first
event seen of a dispute records it (a `closed` that arrives before its `created` records and
closes it at once, posting both the withdrawal and, if won, its reversal), later ones only move
it forward (a closed dispute never reopens, an open one never goes back to an earlier status),
and each posting has its own reference, so a duplicate or late event posts nothing twice (the
webhook applies each event id once besides).

Payment status: a dispute of a booking's charge makes the booking's payment `disputed` (the
status before is kept on the dispute); won, or closed without a chargeback, gives that status
back; lost stays `disputed`. A dispute of a tip's charge leaves the booking's status alone (the
walk's payment is not in question): it is listed with `of_tip`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from dogwalk.adapters import db
from dogwalk.adapters.pagination import Page, newest_first
from dogwalk.events import outbox
from dogwalk.payments import ledger

# the open statuses in the order a dispute goes through them; then the closed ones
OPEN = ("warning_needs_response", "warning_under_review", "needs_response", "under_review")
CLOSED = ("warning_closed", "won", "lost", "prevented")
STATUSES = OPEN + CLOSED
# the statuses of a chargeback whose funds the network has taken (the inquiries' never are)
_WITHDRAWN = frozenset({"needs_response", "under_review", "won", "lost"})
# closed with the funds given back (or never taken): the booking's payment as it was
_GIVEN_BACK = frozenset({"won", "warning_closed", "prevented"})


def _cents(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def dispute_changed(conn: db.Connection, dispute: dict[str, Any]) -> str:
    """A `charge.dispute.*` event's dispute: recorded, moved forward, posted (what became of it)."""
    gateway_id, status, intent_id = dispute.get("id"), dispute.get("status"), dispute.get("payment_intent")
    if not isinstance(gateway_id, str) or not gateway_id or status not in STATUSES:
        return "ignored"
    # the disputed payment's row, locked first: the events of one dispute are applied one at a time
    subject = _subject(conn, intent_id) if isinstance(intent_id, str) and intent_id else None
    if subject is None:
        return "unknown payment"
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM disputes WHERE gateway_id = %s FOR UPDATE",  # noqa: S608  # nosec B608
        (gateway_id,),
    ).fetchone()
    if row is None:
        row = _open(conn, gateway_id, status, dispute, subject)
        if row is None:
            return "ignored"
        outcome = "dispute opened"
    elif row["status"] in CLOSED or (status in OPEN and OPEN.index(status) <= OPEN.index(row["status"])):
        return "already recorded"  # a duplicate, or older news than what we have
    else:
        conn.execute(
            "UPDATE disputes SET status = %s, closed_at = CASE WHEN %s THEN now() END, updated_at = now()"
            " WHERE id = %s",
            (status, status in CLOSED, row["id"]),
        )
        outcome = f"dispute {status}" if status in CLOSED else "dispute updated"
    _post(conn, row, status)
    if status in CLOSED and not row["of_tip"]:
        _settle_status(conn, row, status)
    return outcome


_COLUMNS = "id::text, gateway_id, booking_id::text, of_tip, amount_cents, currency, status, prior_payment_status"


def _subject(conn: db.Connection, intent_id: str) -> dict[str, Any] | None:
    """The booking whose charge (or whose tip's charge) is the PaymentIntent's, locked."""
    booking = conn.execute(
        "SELECT id::text AS booking_id, currency, payment_status, false AS of_tip FROM bookings"
        " WHERE payment_intent_id = %s FOR UPDATE",
        (intent_id,),
    ).fetchone()
    if booking is not None:
        return booking
    return conn.execute(
        "SELECT booking_id::text, currency, NULL::text AS payment_status, true AS of_tip FROM tips"
        " WHERE payment_intent_id = %s FOR UPDATE",
        (intent_id,),
    ).fetchone()


def _open(conn: db.Connection, gateway_id: str, status: str, dispute: dict[str, Any],
          subject: dict[str, Any]) -> dict[str, Any] | None:  # fmt: skip
    """The first event seen of a dispute: its row, the booking's payment marked, the admins told.
    None when the event lacks an amount."""
    amount = _cents(dispute.get("amount"))
    if amount is None:
        return None
    created = _cents(dispute.get("created"))
    opened_at = datetime.fromtimestamp(created, UTC) if created else datetime.now(UTC)
    charge = dispute.get("charge") if isinstance(dispute.get("charge"), str) else None
    reason = str(dispute.get("reason") or "general")
    row = conn.execute(
        f"""
        INSERT INTO disputes (id, gateway_id, booking_id, of_tip, payment_intent_id, charge_id, amount_cents,
                              currency, reason, status, prior_payment_status, opened_at, closed_at)
        VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, CASE WHEN %s THEN now() END)
        RETURNING {_COLUMNS}
        """,  # noqa: S608  # nosec B608
        (str(uuid.uuid4()), gateway_id, subject["booking_id"], subject["of_tip"], dispute["payment_intent"], charge,
         amount, subject["currency"], reason, status, subject["payment_status"], opened_at, status in CLOSED),
    ).fetchone()  # fmt: skip
    if not subject["of_tip"]:
        conn.execute("UPDATE bookings SET payment_status = 'disputed' WHERE id = %s", (subject["booking_id"],))
    admins = conn.execute("SELECT id::text FROM users WHERE role = 'admin' AND suspended_at IS NULL").fetchall()
    for admin in admins:
        outbox.record(conn, "payment.disputed", admin["id"], "admin",
                      {"booking_id": subject["booking_id"], "dispute_id": row["id"] if row else None,
                       "amount_cents": amount, "currency": subject["currency"], "reason": reason,
                       "tip": subject["of_tip"]})  # fmt: skip
    return row


def _post(conn: db.Connection, row: dict[str, Any], status: str) -> None:
    """The ledger as the dispute's status says: withdrawn once it is a chargeback, given back if
    won (or closed after all without one). Each posting once, by its reference."""
    amount, withdrawal = row["amount_cents"], f"dispute:{row['gateway_id']}"
    if status in _WITHDRAWN:
        ledger.post(conn, kind="adjustment", reference=withdrawal, currency=row["currency"],
                    description="disputed: taken back by the card network",
                    entries=[(ledger.DISPUTES, amount), (ledger.GATEWAY_CLEARING, -amount)])  # fmt: skip
    withdrawn = conn.execute("SELECT 1 FROM ledger_transactions WHERE reference = %s", (withdrawal,)).fetchone()
    if status in _GIVEN_BACK and withdrawn is not None:
        ledger.post(conn, kind="adjustment", reference=f"{withdrawal}:given-back", currency=row["currency"],
                    description=f"dispute {status}: given back by the card network",
                    entries=[(ledger.GATEWAY_CLEARING, amount), (ledger.DISPUTES, -amount)])  # fmt: skip


def _settle_status(conn: db.Connection, row: dict[str, Any], status: str) -> None:
    """A closed dispute of the booking's charge: its payment as it was before, unless lost."""
    if status in _GIVEN_BACK and row["prior_payment_status"]:
        conn.execute(
            "UPDATE bookings SET payment_status = %s WHERE id = %s AND payment_status = 'disputed'",
            (row["prior_payment_status"], row["booking_id"]),
        )


def open_dispute_of(conn: db.Connection, booking_id: str) -> bool:
    """Whether the booking's own charge has a dispute that is not closed (it cannot be refunded then)."""
    found = conn.execute(
        "SELECT 1 FROM disputes WHERE booking_id = %s AND NOT of_tip AND closed_at IS NULL", (booking_id,)
    ).fetchone()
    return found is not None


_LISTED = (
    "SELECT id::text, booking_id::text, gateway_id, of_tip, amount_cents, currency, reason, status, opened_at,"
    " closed_at, created_at FROM disputes WHERE true"
)


def list_disputes(status: str | None, limit: int, cursor: str | None) -> Page:
    """The disputes, newest first (as we learnt of them), all or those of one status."""
    if status is None:
        return newest_first(_LISTED, (), limit, cursor)
    return newest_first(_LISTED + " AND status = %s", (status,), limit, cursor)
