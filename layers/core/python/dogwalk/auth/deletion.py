"""Deleting an account (`DELETE /v1/auth/me`; App Store guideline 5.1.1(v), GDPR art. 17).

First the caller proves it is them again: the password, or, for an account without one (made with
Apple or Google), a TOTP code when TOTP is on or a fresh ID token of a linked identity. Then it is
refused with 409 `invalid_state` while the account is still engaged: a booking of theirs requested,
accepted or in progress (a request waiting on a walker would otherwise be accepted after the
owner is gone: cancel it, or decline it, first), or, for a walker, money still to be paid out
(their `walker:<id>:payable` ledger balance is not 0).

Then, in ONE transaction, the personal data goes and the records stay:
- the user row stays, anonymised: name "Deleted user", the email a unique placeholder (so the
  address may register again), no phone, no password, no TOTP secret, `deleted_at` set;
- Apple/Google identities, account tokens, push devices, the inbox, preferences, deliveries and
  idempotency records (their kept answers hold personal data) are deleted;
- dogs keep their row (bookings name them) with the name replaced and notes and birth date nulled;
  the pickup address and notes of the owner's bookings are nulled; review comments by or about the
  user are nulled (the ratings stay); a walker's profile leaves search, loses its bio, service
  area, availability and time off, and their verification documents are emptied;
- every refresh family is revoked.
Bookings, reviews' ratings, tips, payouts and the ledger are kept: they are the other party's and
the business's records, and now name an anonymous account. After the commit the suspension marker
stops live access tokens at once; the `account.deleted` event carries the address the account had
to the email consumer ("your account was deleted") and the devices' SNS endpoints to the push
consumer, which deletes them (best effort); both leave the outbox row once done.

Not here: messages and home access (issue 15) extend `erase_messages_and_home_access`; a walker's
connected payout account at the payment gateway is left to the gateway's own closure (Stripe
closes or keeps it by its own rules; its balance was 0, or we refused).

The SQL reads and writes other services' tables directly: auth must not import them (the
notifications service imports auth for its account emails; an import back would be a cycle).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from dogwalk.adapters import db
from dogwalk.auth import oidc, passwords, sessions, suspensions, totp
from dogwalk.auth.accounts import _count_attempt, _uncount
from dogwalk.errors import InvalidState, NotFound, Unauthorized, ValidationFailed
from dogwalk.events import outbox
from dogwalk.messages import conversations

DELETED_NAME = "Deleted user"
DELETED_DOG_NAME = "Deleted dog"
# RFC 2606 keeps .invalid undeliverable: no mail can ever reach a deleted account's placeholder
PLACEHOLDER_DOMAIN = "deleted.invalid"
ENGAGED = ("requested", "accepted", "in_progress")


def delete_account(
    user_id: str,
    *,
    password: str | None = None,
    totp_code: str | None = None,
    id_token: str | None = None,
    provider: str | None = None,
    nonce: str | None = None,
    now: datetime | None = None,
) -> datetime:
    """Delete the caller's account (see the module's docstring); when it was deleted."""
    moment = now or datetime.now(UTC)
    with db.transaction() as conn:
        account = conn.execute(
            "SELECT id::text AS id, email::text AS email, role, password_hash, mfa_enabled, totp_secret"
            " FROM users WHERE id = %s AND deleted_at IS NULL",
            (user_id,),
        ).fetchone()
    if account is None:
        raise NotFound("No such user.")
    _confirm_it_is_them(account, password, totp_code, id_token, provider, nonce)
    with db.transaction() as conn:
        # the row lock serialises with a concurrent deletion, and with bookings made meanwhile
        # (their foreign key takes a share lock on this row)
        conn.execute("SELECT 1 FROM users WHERE id = %s FOR UPDATE", (user_id,))
        _refuse_while_engaged(conn, user_id, account["role"])
        endpoints = _erase(conn, user_id, account["role"], moment)
        erase_messages_and_home_access(conn, user_id)
        sessions.revoke_all(conn, user_id, "deleted")
        # the goodbye email's address, and the push endpoints to delete (both leave the outbox once done)
        payload: dict[str, object] = {"email": account["email"], "deleted_at": moment.isoformat()}
        if endpoints:
            payload["push_endpoints"] = endpoints
        outbox.record(conn, "account.deleted", user_id, account["role"], payload)
    suspensions.mark(user_id)
    return moment


def _confirm_it_is_them(
    account: dict[str, str],
    password: str | None,
    totp_code: str | None,
    id_token: str | None,
    provider: str | None,
    nonce: str | None,
) -> None:
    """Re-authentication: the password when the account has one; else a TOTP code (when TOTP is
    on) or a fresh ID token of one of its linked identities. Guesses count as login failures."""
    if account["password_hash"] is not None:
        if password is None:
            raise _needs("password", "Confirm with your password.")
        counted = _count_attempt(account["email"].lower(), None)
        if not passwords.verify_password(account["password_hash"], password)[0]:
            raise Unauthorized("The password is wrong.", code="invalid_credentials")
        _uncount(counted)
        return
    if totp_code is not None and account["mfa_enabled"]:
        counted = _count_attempt(account["email"].lower(), None)
        with db.transaction() as conn:
            if not totp.verify_login_code(conn, account["id"], account["totp_secret"], totp_code):
                raise Unauthorized("The code is wrong or was already used.", code="invalid_mfa_code")
        _uncount(counted)
        return
    if id_token is not None and provider is not None:
        identity = oidc.verify(provider, id_token, nonce)
        if oidc.linked_user(identity) != account["id"]:
            raise Unauthorized("That sign-in is not one of this account's.", code="invalid_credentials")
        oidc.spend(identity)
        return
    field = "totp_code" if account["mfa_enabled"] else "id_token"
    raise _needs(field, "Confirm with your authenticator code, or sign in with Apple or Google again.")


def _needs(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, errors=[{"loc": ["body", field], "msg": message}])


def _refuse_while_engaged(conn: db.Connection, user_id: str, role: str) -> None:
    engaged = conn.execute(
        "SELECT count(*) AS n FROM bookings WHERE %s IN (owner_id, walker_id) AND status = ANY(%s)",
        (user_id, list(ENGAGED)),
    ).fetchone()
    if engaged and engaged["n"]:
        raise InvalidState(
            "You have walks requested, confirmed or under way: cancel or finish them before deleting the account."
        )
    if role == "walker":
        owed = conn.execute(
            "SELECT coalesce(sum(amount_cents), 0) AS balance FROM ledger_entries WHERE account_id = %s",
            (f"walker:{user_id}:payable",),
        ).fetchone()
        if owed and owed["balance"] != 0:
            raise InvalidState("You have earnings still to be paid out: delete the account after the next payout.")


def _erase(conn: db.Connection, user_id: str, role: str, moment: datetime) -> list[str]:
    """Erase or replace the user's personal data; the push endpoints to delete once committed."""
    endpoints = [
        row["endpoint_arn"]
        for row in conn.execute("DELETE FROM devices WHERE user_id = %s RETURNING endpoint_arn", (user_id,))
        if row["endpoint_arn"]
    ]
    for table, column in (
        ("oidc_identities", "user_id"),
        ("account_tokens", "user_id"),
        ("notifications", "user_id"),
        ("notification_preferences", "user_id"),
        ("notification_deliveries", "recipient_id"),
        ("idempotency_keys", "user_id"),
        ("tracker_credentials", "walker_id"),  # the tracker app's credentials (issue 16)
    ):
        conn.execute(f"DELETE FROM {table} WHERE {column} = %s", (user_id,))  # noqa: S608  # nosec B608 - constants
    # the digest of the address in earlier reset requests: nothing should lead back to it
    conn.execute(
        "DELETE FROM outbox WHERE event_type = 'account.reset_requested'"
        " AND payload->>'email_digest' = encode(email_digest((SELECT email::text FROM users WHERE id = %s)), 'hex')",
        (user_id,),
    )
    conn.execute(
        "UPDATE dogs SET name = %s, notes = NULL, birth_date = NULL, updated_at = %s,"
        " deleted_at = coalesce(deleted_at, %s) WHERE owner_id = %s",
        (DELETED_DOG_NAME, moment, moment, user_id),
    )
    conn.execute(
        "UPDATE bookings SET pickup_address = NULL, pickup_lat = NULL, pickup_lon = NULL, notes = NULL"
        " WHERE owner_id = %s",
        (user_id,),
    )
    conn.execute("UPDATE reviews SET comment = NULL WHERE %s IN (owner_id, walker_id)", (user_id,))
    if role == "walker":
        conn.execute(
            "UPDATE walker_profiles SET bio = '', lat = 0, lon = 0, verification = 'unverified', updated_at = %s"
            " WHERE user_id = %s",
            (moment, user_id),
        )
        conn.execute("DELETE FROM availability_windows WHERE walker_id = %s", (user_id,))
        conn.execute("DELETE FROM time_off WHERE walker_id = %s", (user_id,))
        conn.execute("UPDATE verification_submissions SET documents = '[]' WHERE walker_id = %s", (user_id,))
    conn.execute(
        "UPDATE users SET name = %s, email = %s, phone = NULL, password_hash = NULL, totp_secret = NULL,"
        " totp_pending_secret = NULL, totp_last_step = NULL, mfa_enabled = false, email_verified_at = NULL,"
        " deleted_at = %s WHERE id = %s",
        (DELETED_NAME, f"deleted-{uuid.uuid4().hex}@{PLACEHOLDER_DOMAIN}", moment, user_id),
    )
    return endpoints


def erase_messages_and_home_access(conn: db.Connection, user_id: str) -> None:
    """The hook issue 15 extends, in the deletion's transaction: message texts the user wrote
    replaced, and their home access details (door codes, lockbox, alarm) deleted. Neither exists yet."""
    # messages: the texts the user wrote blanked and marked erased; the rows stay in the other party's thread
    conversations.erase_user(conn, user_id)
    # care: the owner's home (sealed access secrets, address, vet) and their log of who read it go;
    # the dogs' care notes go with the dogs' other notes (reads naming a deleted walker stay in the
    # owners' logs, under the anonymised name)
    conn.execute("DELETE FROM homes WHERE owner_id = %s", (user_id,))
    conn.execute("DELETE FROM home_access_reads WHERE owner_id = %s", (user_id,))
    conn.execute(
        "UPDATE dogs SET medical_notes = NULL, feeding = NULL, vaccinations = '[]' WHERE owner_id = %s", (user_id,)
    )
