"""Verifying the user's email: a single-use token (24 hours) mailed at registration and on request,
redeemed by `POST /v1/auth/email/verify`; `email_verified` on `/v1/auth/me` from then on.

Asking records an account event; the email consumer makes the token when it mails it (see
`dogwalk.auth.account_tokens`). A token proves the address it was mailed to only: were the address
to change, its pending tokens would no longer redeem.
"""

from __future__ import annotations

from datetime import UTC, datetime

from dogwalk.adapters import db, ratelimit
from dogwalk.adapters.ratelimit import Limit
from dogwalk.auth import account_tokens
from dogwalk.auth.password_reset import REDEEM_PER_IP
from dogwalk.errors import BadRequest, NotFound
from dogwalk.events import outbox

# each request sends an email: fail closed (503) when Redis cannot count
VERIFICATIONS_PER_USER = Limit("verification-user", 5, 60 * 60, fail_open=False)


def request_verification(user_id: str) -> None:
    """Mail the user a verification token, unless their email is verified already (nothing to send)."""
    ratelimit.hit(VERIFICATIONS_PER_USER, user_id)
    with db.transaction() as conn:
        row = conn.execute(
            "SELECT role, email_verified_at FROM users WHERE id = %s AND deleted_at IS NULL", (user_id,)
        ).fetchone()
        if row is None:
            raise NotFound("No such user.")
        if row["email_verified_at"] is None:
            outbox.record(conn, "account.verification_requested", user_id, row["role"], {})


def verify_email(token: str, source_ip: str, *, now: datetime | None = None) -> None:
    """Redeem a verification token; `BadRequest` `invalid_token` for an unknown, used, expired one."""
    moment = now or datetime.now(UTC)
    ratelimit.hit(REDEEM_PER_IP, source_ip)
    with db.transaction() as conn:
        spent = account_tokens.redeem(conn, token, account_tokens.VERIFY_EMAIL, now=moment)
        if spent is None:
            raise BadRequest(
                "The link is invalid, expired or was already used; ask for a new one.", code="invalid_token"
            )
        conn.execute(
            "UPDATE users SET email_verified_at = coalesce(email_verified_at, %s) WHERE id = %s",
            (moment, spent.user_id),
        )
