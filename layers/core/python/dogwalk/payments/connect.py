"""Walkers' connected accounts at the payment gateway (Stripe Connect): made at the first onboarding,
onboarded on the gateway's hosted pages, and kept current here from its `account.updated` events.

The platform charges owners on its own account and transfers each walker's earnings to their
connected account afterwards (separate charges and transfers, docs.stripe.com/connect/
separate-charges-and-transfers: the platform is the merchant of record and pays Stripe's fees,
refunds and disputes from its balance). So the accounts are Express-like, described by controller
properties (see `gateway.CONNECT_CONTROLLER`), with only the `transfers` capability.

Onboarding is Stripe's: an account link (docs.stripe.com/api/account_links) is a single-use URL
that expires in minutes, so every call makes a new one; the walker returns to the app's
`return_url` whether they completed or left, and the app reads `GET /v1/walkers/me/payouts/account`
rather than trusting the return. Our copy changes only with the gateway's word: an `account.updated`
event on the Connect webhook (docs.stripe.com/connect/webhooks: Connect events have their own
endpoint and signing secret), or the weekly job reading an account that our copy has not enabled.

Status, from the account as the gateway describes it (the first that holds):
- `none`: no account yet;
- `pending`: details not submitted yet;
- `enabled`: payouts enabled and the transfers capability active;
- `restricted`: submitted, not enabled, and the gateway says why (`requirements.disabled_reason`,
  other than verification still under way);
- `pending`: otherwise (submitted, being verified or with requirements currently due).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from psycopg.types.json import Jsonb

from dogwalk.adapters import db
from dogwalk.config import settings
from dogwalk.payments import gateway

RETURN_PATH = "/walker/payouts/return"
REFRESH_PATH = "/walker/payouts/refresh"  # a used or expired link: the app asks for a new one


def _get(value: Any, name: str, default: Any = None) -> Any:
    return value.get(name, default) if isinstance(value, Mapping) else default


def requirements_due(account: Mapping[str, Any]) -> list[str]:
    requirements = _get(account, "requirements") or {}
    due = [*(_get(requirements, "currently_due") or []), *(_get(requirements, "past_due") or [])]
    return sorted({item for item in due if isinstance(item, str)})


def status_of(account: Mapping[str, Any] | None) -> str:
    """`none`, `pending`, `enabled` or `restricted` for the gateway's account object (see above)."""
    if account is None:
        return "none"
    if not _get(account, "details_submitted"):
        return "pending"
    if _get(account, "payouts_enabled") and _get(_get(account, "capabilities"), "transfers") == "active":
        return "enabled"
    reason = _get(_get(account, "requirements"), "disabled_reason")
    if reason and reason != "requirements.pending_verification":
        return "restricted"
    return "pending"


def _plain(account: Any) -> dict[str, Any]:
    """The SDK's StripeObject (or an event's JSON) as plain JSON values."""
    return dict(account.to_dict()) if hasattr(account, "to_dict") else dict(account)


def _facts(account: Mapping[str, Any]) -> tuple[Any, ...]:
    requirements = _get(account, "requirements") or {}
    return (
        status_of(account),
        bool(_get(account, "details_submitted")),
        bool(_get(account, "charges_enabled")),
        bool(_get(account, "payouts_enabled")),
        _get(_get(account, "capabilities"), "transfers"),
        _get(requirements, "disabled_reason"),
        Jsonb(requirements if isinstance(requirements, Mapping) else {}),
    )


def _insert(conn: db.Connection, walker_id: str, account: Mapping[str, Any]) -> None:
    """The new account as the gateway made it, described at its `created` (the gateway's clock, in
    whole seconds like its events' `created`: the first event about it is never "older")."""
    created = _get(account, "created")
    conn.execute(
        "INSERT INTO connected_accounts (walker_id, account_id, status, details_submitted, charges_enabled,"
        " payouts_enabled, transfers, disabled_reason, requirements, synced_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, coalesce(to_timestamp(%s), now()))"
        # any unique index: concurrent first calls insert the same walker with the same account, and
        # a conflict target of walker_id alone lets the account_id index raise in the race
        " ON CONFLICT DO NOTHING",
        (walker_id, account["id"], *_facts(account), created if isinstance(created, int) else None),
    )


def record(conn: db.Connection, account: Mapping[str, Any], *, described_at: datetime | None = None) -> str:
    """Our copy of the account in the caller's transaction. From an event (`described_at`, its
    `created`): unless our copy is newer, since events arrive in any order. Read from the gateway
    just now (None): always; an event of the second before it still counts, as their times are
    whole seconds of the gateway's clock."""
    account_id = _get(account, "id")
    if not isinstance(account_id, str):
        return "ignored"
    if described_at is None:
        stamp, newer = "greatest(synced_at, date_trunc('second', now()) - interval '1 second')", "true"
        values: tuple[Any, ...] = (account_id,)
    else:
        stamp, newer = "%s", "synced_at <= %s"
        values = (described_at, account_id, described_at)
    changed = conn.execute(
        "UPDATE connected_accounts SET status = %s, details_submitted = %s, charges_enabled = %s,"  # noqa: S608  # nosec B608
        f" payouts_enabled = %s, transfers = %s, disabled_reason = %s, requirements = %s, synced_at = {stamp},"
        f" updated_at = now() WHERE account_id = %s AND {newer} RETURNING status",
        (*_facts(account), *values),
    ).fetchone()
    if changed is not None:
        return f"account {changed['status']}"
    known = conn.execute("SELECT 1 FROM connected_accounts WHERE account_id = %s", (account_id,)).fetchone()
    return "older than our copy" if known else "unknown account"


def _account_id_of(walker_id: str) -> tuple[str | None, str | None]:
    with db.transaction() as conn:
        row = conn.execute(
            "SELECT u.email, a.account_id FROM users u LEFT JOIN connected_accounts a ON a.walker_id = u.id"
            " WHERE u.id = %s",
            (walker_id,),
        ).fetchone()
    return (row["account_id"], row["email"]) if row else (None, None)


def start_onboarding(walker_id: str) -> dict[str, str]:
    """`{url, expires_at}`: a single-use link to the gateway's onboarding of the walker's account,
    which the first call makes (once: the walker id is its idempotency key at the gateway)."""
    account_id, email = _account_id_of(walker_id)
    if account_id is None:
        account = _plain(gateway.create_connected_account(walker_id, email))
        with db.transaction() as conn:
            _insert(conn, walker_id, account)
        account_id, _ = _account_id_of(walker_id)
    base = settings().app_base_url.rstrip("/")
    link = gateway.onboarding_link(str(account_id), return_url=base + RETURN_PATH, refresh_url=base + REFRESH_PATH)
    return {"url": str(link.url), "expires_at": datetime.fromtimestamp(int(link.expires_at), UTC).isoformat()}


def account_view(walker_id: str) -> dict[str, Any]:
    """What the walker's payouts account stands at, from our copy."""
    with db.transaction() as conn:
        row = conn.execute(
            "SELECT status, payouts_enabled, requirements FROM connected_accounts WHERE walker_id = %s",
            (walker_id,),
        ).fetchone()
    if row is None:
        return {"status": "none", "payouts_enabled": False, "requirements_due": []}
    return {
        "status": row["status"],
        "payouts_enabled": row["payouts_enabled"],
        "requirements_due": requirements_due({"requirements": row["requirements"]}),
    }


def enabled_account(walker_id: str) -> str | None:
    """The walker's connected account if payouts to it are enabled. An account our copy has not
    enabled is read from the gateway first: an `account.updated` that never reached us (or is
    still on its way) does not keep the walker's money back."""
    with db.transaction() as conn:
        row = conn.execute(
            "SELECT account_id, status FROM connected_accounts WHERE walker_id = %s", (walker_id,)
        ).fetchone()
    if row is None:
        return None
    if row["status"] != "enabled":
        account = _plain(gateway.retrieve_account(row["account_id"]))
        with db.transaction() as conn:
            record(conn, account)
        if status_of(account) != "enabled":
            return None
    return str(row["account_id"])
