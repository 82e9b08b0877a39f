"""The account's own events (the outbox's `ACCOUNT_EVENT_TYPES`): their emails — email
verification, password reset, "your password was changed", "your account was deleted" — and the
push endpoints a deleted account leaves behind.

They go by email alone and whatever the preferences (a security notice one could switch off would
not be one), through the same email channel, once per (event, recipient) like every delivery.
Each names its recipient its own way:
- a reset request carries only the SHA-256 of the address it was asked for; the account with that
  address is looked up here, at delivery, and an unknown address is simply not mailed: the request
  path never looked it up (see `dogwalk.auth.password_reset`);
- a deletion carries the address the account had (the row now holds a placeholder); once mailed,
  the address is taken out of the outbox row, so no copy of it stays behind;
- the others name the user, who must still exist (a verification also not yet verified).

The single-use tokens are made here, when the email is about to go (`dogwalk.auth.account_tokens`):
the raw token is only ever in the email.

A deletion also names the SNS endpoints of the devices it deleted: the push consumer deletes them
(best effort, as `push_devices` forgets a device), so the deleting request needs no push grant.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol

from dogwalk.adapters import db
from dogwalk.auth import account_tokens
from dogwalk.config import settings
from dogwalk.notifications import push_devices
from dogwalk.notifications.channels import Recipient
from dogwalk.notifications.texts import Text, account_text


class Event(Protocol):
    """What is read of an account event (`deliveries.Event` is one)."""

    @property
    def id(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def recipient_id(self) -> str | None: ...
    @property
    def payload(self) -> dict[str, Any]: ...
    @property
    def occurred_at(self) -> datetime: ...


_USER = "SELECT id::text, role, name, email::text, phone FROM users"


def recipient(event: Event) -> Recipient | None:
    """Whom the account email goes to; None when nobody should get it."""
    with db.transaction() as conn:
        if event.type == "account.reset_requested":
            digest = str(event.payload.get("email_digest", ""))
            row = conn.execute(
                _USER + " WHERE email_digest(email::text) = decode(%s, 'hex') AND deleted_at IS NULL",
                (digest if len(digest) == 64 else "",),
            ).fetchone()
        elif event.type == "account.deleted":
            address = event.payload.get("email")
            row = conn.execute(_USER + " WHERE id = %s", (event.recipient_id,)).fetchone()
            if row is None or not isinstance(address, str):  # already mailed and forgotten
                return None
            return Recipient(row["id"], row["role"], "", address, None)
        elif event.type == "account.verification_requested":
            row = conn.execute(
                _USER + " WHERE id = %s AND deleted_at IS NULL AND email_verified_at IS NULL", (event.recipient_id,)
            ).fetchone()
        else:
            row = conn.execute(_USER + " WHERE id = %s AND deleted_at IS NULL", (event.recipient_id,)).fetchone()
    return Recipient(row["id"], row["role"], row["name"], row["email"], row["phone"]) if row else None


def render(event: Event, to: Recipient, *, now: datetime | None = None) -> Text | None:
    """The email, with its fresh token where it carries one; None when there is nothing to send."""
    base = settings().app_base_url.rstrip("/")
    moment = now or datetime.now(UTC)
    # the token travels in the fragment: browsers never send it to a server, nor in a Referer
    if event.type == "account.verification_requested":
        token = account_tokens.issue(to.id, account_tokens.VERIFY_EMAIL, now=moment)
        link = f"{base}/verify-email#token={token}"
    elif event.type == "account.reset_requested":
        token = account_tokens.issue(to.id, account_tokens.RESET_PASSWORD, now=moment)
        link = f"{base}/reset-password#token={token}"
    elif event.type == "account.password_changed":
        token, link = "", f"{base}/forgot-password"
    else:
        token, link = "", base
    if token is None:  # the user was deleted meanwhile
        return None
    return account_text(event.type, event.id, link, event.occurred_at)


def forget_address(event: Event) -> None:
    """Once the deletion's email went, the address it carried leaves the outbox too."""
    if event.type != "account.deleted":
        return
    with db.transaction() as conn:
        conn.execute("UPDATE outbox SET payload = payload - 'email' WHERE id = %s", (event.id,))


def forget_push_endpoints(event: Event) -> None:
    """The deleted account's push endpoints go (a no-op for the other events, and once done)."""
    arns = event.payload.get("push_endpoints") if event.type == "account.deleted" else None
    if not isinstance(arns, list) or not arns:
        return
    for arn in arns:
        if isinstance(arn, str):
            push_devices._delete_endpoint(arn)  # best effort: an orphan endpoint reaches no device
    with db.transaction() as conn:
        conn.execute("UPDATE outbox SET payload = payload - 'push_endpoints' WHERE id = %s", (event.id,))
