"""TOTP second factor (RFC 6238 through pyotp): set up, enable and disable with a valid code,
and every code accepted at most once, even inside its validity window."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

import pyotp

from dogwalk.adapters.db import Connection
from dogwalk.errors import Conflict, ValidationFailed

ISSUER = "DogWalk"
# codes of the previous and next 30 s step are accepted too: phones' clocks drift
VALID_WINDOW = 1


@dataclass(frozen=True)
class Setup:
    secret: str
    otpauth_uri: str


def _matching_step(secret: str, code: str, now: float) -> int | None:
    """The time step whose code `code` is, within the window; None when it matches none."""
    totp = pyotp.TOTP(secret)
    step = totp.timecode(datetime.fromtimestamp(now, tz=UTC))
    for candidate in range(step - VALID_WINDOW, step + VALID_WINDOW + 1):
        if pyotp.utils.strings_equal(totp.generate_otp(candidate), code):
            return candidate
    return None


def begin_setup(conn: Connection, user_id: str, email: str) -> Setup:
    """A new secret, pending until a code made from it enables MFA."""
    row = conn.execute("SELECT mfa_enabled FROM users WHERE id = %s FOR UPDATE", (user_id,)).fetchone()
    if row is not None and row["mfa_enabled"]:
        raise Conflict("Two-factor authentication is already on; disable it first.", code="mfa_already_enabled")
    secret = pyotp.random_base32()
    conn.execute("UPDATE users SET totp_pending_secret = %s WHERE id = %s", (secret, user_id))
    return Setup(secret, pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER))


def _spend(conn: Connection, user_id: str, secret: str | None, code: str, now: float) -> bool:
    """Accept `code` once: the step must match and be later than the last one accepted."""
    if not secret or not code.isdigit():
        return False
    step = _matching_step(secret, code, now)
    if step is None:
        return False
    return (
        conn.execute(
            "UPDATE users SET totp_last_step = %s WHERE id = %s AND (totp_last_step IS NULL OR totp_last_step < %s)",
            (step, user_id, step),
        ).rowcount
        == 1
    )


def enable(conn: Connection, user_id: str, code: str, *, now: float | None = None) -> None:
    row = conn.execute(
        "SELECT totp_pending_secret, mfa_enabled FROM users WHERE id = %s FOR UPDATE", (user_id,)
    ).fetchone()
    if row is None or row["mfa_enabled"] or not row["totp_pending_secret"]:
        raise Conflict("Start with the setup step.", code="invalid_state")
    if not _spend(conn, user_id, row["totp_pending_secret"], code, time.time() if now is None else now):
        raise ValidationFailed("The code is wrong or was already used.", code="invalid_mfa_code")
    conn.execute(
        "UPDATE users SET totp_secret = totp_pending_secret, totp_pending_secret = NULL, mfa_enabled = true"
        " WHERE id = %s",
        (user_id,),
    )


def disable(conn: Connection, user_id: str, code: str, *, now: float | None = None) -> None:
    row = conn.execute("SELECT totp_secret, mfa_enabled FROM users WHERE id = %s FOR UPDATE", (user_id,)).fetchone()
    if row is None or not row["mfa_enabled"]:
        raise Conflict("Two-factor authentication is not on.", code="invalid_state")
    if not _spend(conn, user_id, row["totp_secret"], code, time.time() if now is None else now):
        raise ValidationFailed("The code is wrong or was already used.", code="invalid_mfa_code")
    conn.execute(
        "UPDATE users SET totp_secret = NULL, mfa_enabled = false, totp_last_step = NULL WHERE id = %s", (user_id,)
    )


def verify_login_code(conn: Connection, user_id: str, secret: str, code: str, *, now: float | None = None) -> bool:
    return _spend(conn, user_id, secret, code, time.time() if now is None else now)
