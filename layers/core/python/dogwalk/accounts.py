"""Accounts: registering, logging in (password, then TOTP when on), refreshing, logging out,
changing the password, suspending, and the operator admin. Every change is one transaction.
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass

import psycopg

from dogwalk import db, passwords, ratelimit, sessions, suspensions, totp
from dogwalk.errors import Conflict, Forbidden, NotFound, RateLimited, Unauthorized, ValidationFailed
from dogwalk.ratelimit import LOGIN_FAILURES_PER_ACCOUNT, LOGIN_FAILURES_PER_IP, REFRESH_PER_FAMILY, REGISTER_PER_IP
from dogwalk.tokens import issue_access_token
from dogwalk.users import User, get_user

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


def _password_problems(password: str, email: str) -> None:
    problems = passwords.policy_problems(password, email)
    if problems:
        errors = [{"loc": ["body", "password"], "msg": f"The password {problem}."} for problem in problems]
        raise ValidationFailed("The password is too weak.", errors=errors)


def register(email: str, password: str, role: str, name: str, phone: str | None, source_ip: str) -> Tokens:
    if role not in SELF_SERVICE_ROLES:
        raise Forbidden("Admins cannot register.")
    ratelimit.hit(REGISTER_PER_IP, source_ip)
    _password_problems(password, email)
    user_id = str(uuid.uuid4())
    password_hash = passwords.hash_password(password)
    try:
        with db.transaction() as conn:
            conn.execute(
                "INSERT INTO users (id, email, role, name, phone, password_hash) VALUES (%s, %s, %s, %s, %s, %s)",
                (user_id, email, role, name, phone, password_hash),
            )
            refresh_token = sessions.start_family(conn, user_id)
    except psycopg.errors.UniqueViolation:
        raise Conflict("An account with this email exists; log in instead.", code="email_taken") from None
    return _tokens(get_user(user_id), refresh_token)


def login(email: str, password: str, totp_code: str | None, source_ip: str) -> Tokens:
    account = email.strip().lower()
    ratelimit.check(LOGIN_FAILURES_PER_IP, source_ip)
    ratelimit.check(LOGIN_FAILURES_PER_ACCOUNT, account)
    with db.transaction() as conn:
        row = conn.execute(
            "SELECT id::text AS id, password_hash, suspended_at, mfa_enabled, totp_secret FROM users WHERE email = %s",
            (account,),
        ).fetchone()
    matches, new_hash = passwords.verify_password(row["password_hash"] if row else None, password)
    if row is None or not matches:
        _failed_login(account, source_ip)
        raise Unauthorized("The email or the password is wrong.", code="invalid_credentials")
    if row["suspended_at"] is not None:
        raise Forbidden("This account is suspended.", code="account_suspended")
    with db.transaction() as conn:
        if row["mfa_enabled"]:
            if not totp_code:
                raise Unauthorized("Enter the code from your authenticator app.", code="mfa_required")
            if not totp.verify_login_code(conn, row["id"], row["totp_secret"], totp_code):
                _failed_login(account, source_ip)
                raise Unauthorized("The code is wrong or was already used.", code="invalid_mfa_code")
        if new_hash:
            conn.execute("UPDATE users SET password_hash = %s WHERE id = %s", (new_hash, row["id"]))
        refresh_token = sessions.start_family(conn, row["id"])
    ratelimit.clear(LOGIN_FAILURES_PER_ACCOUNT, account)
    return _tokens(get_user(row["id"]), refresh_token)


def _failed_login(account: str, source_ip: str) -> None:
    # counting may itself reach the limit; this attempt still answers 401, the next one 429
    for limit, subject in ((LOGIN_FAILURES_PER_ACCOUNT, account), (LOGIN_FAILURES_PER_IP, source_ip)):
        with contextlib.suppress(RateLimited):
            ratelimit.hit(limit, subject)


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


def logout(user_id: str, refresh_token: str) -> None:
    """Revoke the token's family; a token of someone else's, or unknown, changes nothing."""
    with db.transaction() as conn:
        family_id = sessions.family_of(conn, refresh_token)
        if family_id is None:
            return
        owner = conn.execute("SELECT user_id::text FROM refresh_families WHERE id = %s", (family_id,)).fetchone()
        if owner and owner["user_id"] == user_id:
            sessions.revoke_family(conn, family_id, "logout")


def change_password(user_id: str, current: str, new: str) -> None:
    with db.transaction() as conn:
        row = conn.execute("SELECT email::text, password_hash FROM users WHERE id = %s", (user_id,)).fetchone()
    if row is None:
        raise NotFound("No such user.")
    if not passwords.verify_password(row["password_hash"], current)[0]:
        raise Unauthorized("The current password is wrong.", code="invalid_credentials")
    _password_problems(new, row["email"])
    new_hash = passwords.hash_password(new)
    with db.transaction() as conn:
        conn.execute(
            "UPDATE users SET password_hash = %s, password_changed_at = now() WHERE id = %s", (new_hash, user_id)
        )
        sessions.revoke_all(conn, user_id, "password_changed")


def suspend(user_id: str) -> None:
    """Lock the user out: no login, no refresh, and live access tokens refused from the next request."""
    try:
        uuid.UUID(user_id)
    except ValueError:
        raise NotFound("No such user.") from None
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
    """The admin named by DOGWALK_ADMIN_EMAIL exists with DOGWALK_ADMIN_PASSWORD (created, or reset)."""
    _password_problems(password, email)
    password_hash = passwords.hash_password(password)
    with db.transaction() as conn:
        written = conn.execute(
            """
            INSERT INTO users (id, email, role, name, password_hash) VALUES (%s, %s, 'admin', 'Operator', %s)
            ON CONFLICT (email) DO UPDATE SET password_hash = EXCLUDED.password_hash, suspended_at = NULL,
                                              password_changed_at = now()
                                        WHERE users.role = 'admin'
            """,
            (str(uuid.uuid4()), email.strip().lower(), password_hash),
        ).rowcount
    if written != 1:  # never promote someone's own account to admin
        raise RuntimeError("DOGWALK_ADMIN_EMAIL belongs to an account that is not an admin")
