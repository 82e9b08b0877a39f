"""Forgotten passwords: asking for a reset email, and resetting with the token it carries.

`forgot_password` must not tell anyone whether an address has an account, neither by its answer
nor by its time. So it does the same work for every address and never looks the address up: it
counts the request against the caller's IP and the address, then writes one outbox row carrying
the address's SHA-256 (not the address). The email consumer looks the digest up when it delivers
the event and, for an account, makes the token and mails it (`dogwalk.notifications.account_events`);
for an unknown address nothing is sent. The raw token never rests in our database.

A reset spends the token (one wins among concurrent resets with it), sets the password, voids the
user's other reset tokens, revokes every refresh family, clears the account's login failures and
tells the user by email. TOTP is untouched: it is still asked for at the next login.
"""

from __future__ import annotations

from datetime import UTC, datetime

from dogwalk.adapters import db, ratelimit
from dogwalk.adapters.ratelimit import LOGIN_FAILURES_PER_ACCOUNT, Limit
from dogwalk.auth import account_tokens, passwords, sessions
from dogwalk.auth.accounts import password_problems
from dogwalk.errors import BadRequest
from dogwalk.events import outbox

# abuse-prone and unauthenticated: fail closed (503) when Redis cannot count, as login does
FORGOT_PER_IP = Limit("forgot-ip", 10, 60 * 60, fail_open=False)
FORGOT_PER_EMAIL = Limit("forgot-email", 5, 60 * 60, fail_open=False)
# redeeming any account token (reset or verification): tokens are unguessable, this bounds the noise
REDEEM_PER_IP = Limit("account-token-ip", 30, 15 * 60, fail_open=False)


def _invalid_token() -> BadRequest:
    return BadRequest("The link is invalid, expired or was already used; ask for a new one.", code="invalid_token")


def forgot_password(email: str, source_ip: str) -> None:
    """Ask for a reset email for `email`; the same work and answer whether or not it has an account."""
    digest = account_tokens.email_digest(email)
    ratelimit.hit(FORGOT_PER_IP, source_ip)
    ratelimit.hit(FORGOT_PER_EMAIL, digest)
    with db.transaction() as conn:
        outbox.record(conn, "account.reset_requested", None, None, {"email_digest": digest})


def reset_password(token: str, new_password: str, source_ip: str, *, now: datetime | None = None) -> None:
    """Set a new password with a reset token; `BadRequest` `invalid_token` for an unknown, used,
    voided or expired one; `ValidationFailed` for a weak password (the token is not spent)."""
    moment = now or datetime.now(UTC)
    ratelimit.hit(REDEEM_PER_IP, source_ip)
    with db.transaction() as conn:
        found = account_tokens.holder(conn, token, account_tokens.RESET_PASSWORD, now=moment)
    if found is None:
        raise _invalid_token()
    password_problems(new_password, found.email, field="new_password")
    new_hash = passwords.hash_password(new_password)  # slow: outside the transaction
    with db.transaction() as conn:
        spent = account_tokens.redeem(conn, token, account_tokens.RESET_PASSWORD, now=moment)
        if spent is None:  # spent by a concurrent reset meanwhile: that one won
            raise _invalid_token()
        # the mailed token proves the address, so the email counts as verified from now on
        conn.execute(
            "UPDATE users SET password_hash = %s, password_changed_at = %s,"
            " email_verified_at = coalesce(email_verified_at, %s) WHERE id = %s",
            (new_hash, moment, moment, spent.user_id),
        )
        sessions.revoke_all(conn, spent.user_id, "password_reset")
        outbox.record(conn, "account.password_changed", spent.user_id, spent.role, {"how": "reset"})
    # the failures counted against the account (an attacker's, or the owner's forgetting) are over
    ratelimit.clear(LOGIN_FAILURES_PER_ACCOUNT, spent.email.lower())
