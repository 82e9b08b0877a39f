"""Accounts: registering, logging in (password, then TOTP when on), refreshing, logging out,
changing the password, suspending, and the operator admin. Every change is one transaction.

Registering asks for the verification email and changing the password tells the user by email:
both as account events in the outbox, in the transaction of the change (see
`dogwalk.notifications.account_events`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import psycopg

from dogwalk.adapters import db, ratelimit
from dogwalk.adapters.ratelimit import (
    LOGIN_FAILURES_PER_ACCOUNT,
    LOGIN_FAILURES_PER_IP,
    REFRESH_PER_FAMILY,
    REGISTER_PER_IP,
)
from dogwalk.auth import passwords, sessions, suspensions, totp
from dogwalk.auth.tokens import issue_access_token
from dogwalk.auth.users import User, get_user
from dogwalk.errors import Conflict, Forbidden, NotFound, RateLimited, Unauthorized, ValidationFailed, require_id
from dogwalk.events import outbox

SELF_SERVICE_ROLES = frozenset({"owner", "walker"})


@dataclass(frozen=True)
class Tokens:
    user: User
    access_token: str
    refresh_token: str
    expires_in: int


def _tokens(user: User, refresh_token: str) -> Tokens:
    access_token, expires_in = issue_access_token(user.id, user.role)
    return Tokens(user, access_token, refresh_token, expires_in)


def password_problems(password: str, email: str, field: str = "password") -> None:
    """`ValidationFailed` naming the request's `field` when the password breaks the policy."""
    problems = passwords.policy_problems(password, email)
    if problems:
        errors = [{"loc": ["body", field], "msg": f"The password {problem}."} for problem in problems]
        raise ValidationFailed("The password is too weak.", errors=errors)


def register(email: str, password: str, role: str, name: str, phone: str | None, source_ip: str) -> Tokens:
    if role not in SELF_SERVICE_ROLES:
        raise Forbidden("Admins cannot register.")
    ratelimit.hit(REGISTER_PER_IP, source_ip)
    password_problems(password, email)
    user_id = str(uuid.uuid4())
    password_hash = passwords.hash_password(password)
    try:
        with db.transaction() as conn:
            conn.execute(
                "INSERT INTO users (id, email, role, name, phone, password_hash) VALUES (%s, %s, %s, %s, %s, %s)",
                (user_id, email, role, name, phone, password_hash),
            )
            refresh_token = sessions.start_family(conn, user_id)
            outbox.record(conn, "account.verification_requested", user_id, role, {})
    except psycopg.errors.UniqueViolation:
        raise Conflict("An account with this email exists; log in instead.", code="email_taken") from None
    return _tokens(get_user(user_id), refresh_token)


def login(email: str, password: str, totp_code: str | None, source_ip: str) -> Tokens:
    account = email.strip().lower()
    counted = _count_attempt(account, source_ip)
    with db.transaction() as conn:
        row = conn.execute(
            "SELECT id::text AS id, password_hash, suspended_at, mfa_enabled, totp_secret FROM users WHERE email = %s",
            (account,),
        ).fetchone()
    matches, new_hash = passwords.verify_password(row["password_hash"] if row else None, password)
    if row is None or not matches:
        raise Unauthorized("The email or the password is wrong.", code="invalid_credentials")
    if row["suspended_at"] is not None:
        _uncount(counted)
        raise Forbidden("This account is suspended.", code="account_suspended")
    with db.transaction() as conn:
        if row["mfa_enabled"]:
            if not totp_code:
                _uncount(counted)
                raise Unauthorized("Enter the code from your authenticator app.", code="mfa_required")
            if not totp.verify_login_code(conn, row["id"], row["totp_secret"], totp_code):
                raise Unauthorized("The code is wrong or was already used.", code="invalid_mfa_code")
        if new_hash:
            conn.execute("UPDATE users SET password_hash = %s WHERE id = %s", (new_hash, row["id"]))
        refresh_token = sessions.start_family(conn, row["id"])
    _uncount(counted)
    ratelimit.clear(LOGIN_FAILURES_PER_ACCOUNT, account)
    return _tokens(get_user(row["id"]), refresh_token)


Counted = list[tuple[ratelimit.Limit, str, str]]


def _count_attempt(account: str, source_ip: str | None) -> Counted:
    """Count a password attempt before checking it, per IP and per account (429 when either is
    full): concurrent guesses are counted as they start, not after they fail."""
    counted: Counted = []
    subjects = [(LOGIN_FAILURES_PER_ACCOUNT, account)]
    if source_ip is not None:
        subjects.insert(0, (LOGIN_FAILURES_PER_IP, source_ip))
    try:
        for limit, subject in subjects:
            counted.append((limit, subject, ratelimit.hit(limit, subject)))
    except RateLimited:
        _uncount(counted)
        raise
    return counted


def _uncount(counted: Counted) -> None:
    """The attempt was not a failure (right password): take it back."""
    for limit, subject, event_id in counted:
        ratelimit.forget(limit, subject, event_id)


def refresh(refresh_token: str) -> Tokens:
    with db.transaction() as conn:
        family_id = sessions.family_of(conn, refresh_token)
    if family_id is not None:
        ratelimit.hit(REFRESH_PER_FAMILY, family_id)
    with db.transaction() as conn:
        outcome = sessions.rotate(conn, refresh_token)
    if isinstance(outcome, Unauthorized):
        raise outcome
    return _tokens(get_user(outcome.user_id), outcome.refresh_token)


def change_password(user_id: str, current: str, new: str) -> None:
    with db.transaction() as conn:
        row = conn.execute("SELECT email::text, password_hash FROM users WHERE id = %s", (user_id,)).fetchone()
    if row is None:
        raise NotFound("No such user.")
    # a stolen access token must not make the current password guessable at the per-user rate
    counted = _count_attempt(row["email"].lower(), None)
    if not passwords.verify_password(row["password_hash"], current)[0]:
        raise Unauthorized("The current password is wrong.", code="invalid_credentials")
    _uncount(counted)
    password_problems(new, row["email"], field="new_password")
    new_hash = passwords.hash_password(new)
    with db.transaction() as conn:
        changed = conn.execute(
            "UPDATE users SET password_hash = %s, password_changed_at = now() WHERE id = %s RETURNING role",
            (new_hash, user_id),
        ).fetchone()
        sessions.revoke_all(conn, user_id, "password_changed")
        outbox.record(
            conn, "account.password_changed", user_id, changed["role"] if changed else None, {"how": "change"}
        )


def suspend(user_id: str) -> None:
    """Lock the user out: no login, no refresh, and live access tokens refused from the next request."""
    require_id(user_id, "user")
    with db.transaction() as conn:
        found = conn.execute(
            "UPDATE users SET suspended_at = coalesce(suspended_at, now()) WHERE id = %s RETURNING id",
            (user_id,),
        ).fetchone()
        if found is None:
            raise NotFound("No such user.")
        sessions.revoke_all(conn, user_id, "suspended")
    suspensions.mark(user_id)


def ensure_operator_admin(email: str, password: str) -> None:
    """The admin named by DOGWALK_ADMIN_EMAIL exists with DOGWALK_ADMIN_PASSWORD: created, or its
    password reset (which, like any password change, ends its sessions). Nothing changes when it
    already holds that password, so a deploy does not log the operator out."""
    account = email.strip().lower()
    with db.transaction() as conn:
        row = conn.execute(
            "SELECT id::text AS id, role, password_hash, suspended_at FROM users WHERE email = %s", (account,)
        ).fetchone()
    if row is not None and row["role"] != "admin":  # never promote someone's own account
        raise RuntimeError("DOGWALK_ADMIN_EMAIL belongs to an account that is not an admin")
    if row is not None and row["suspended_at"] is None and passwords.verify_password(row["password_hash"], password)[0]:
        return
    password_problems(password, account)
    password_hash = passwords.hash_password(password)
    with db.transaction() as conn:
        if row is None:
            conn.execute(
                "INSERT INTO users (id, email, role, name, password_hash) VALUES (%s, %s, 'admin', 'Operator', %s)",
                (str(uuid.uuid4()), account, password_hash),
            )
            return
        conn.execute(
            "UPDATE users SET password_hash = %s, suspended_at = NULL, password_changed_at = now() WHERE id = %s",
            (password_hash, row["id"]),
        )
        sessions.revoke_all(conn, row["id"], "password_reset")
