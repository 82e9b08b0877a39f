"""The auth service's functions: accounts, tokens, TOTP, suspension, the token authorizer and the
signing keys' rotation; email verification, password reset, deletion, export and Sign in with
Apple and Google."""

from __future__ import annotations

from dogwalk.declarations import (
    ADMIN,
    ANY_USER,
    CACHE,
    DATABASE,
    EVENTS,
    HOME_ACCESS,
    IDENTITY_PROVIDERS,
    SIGNING_KEYS_READ,
    SIGNING_KEYS_WRITE,
    Endpoint,
    Function,
    Schedule,
    Service,
)

SERVICE = Service("auth", tag="Auth", uses=frozenset({DATABASE, CACHE}))
# Hashing a password (Argon2id, 19 MiB) is CPU-bound: Lambda's CPU grows with memory.
_HASHING_MB = 1024
# the endpoints that answer a token pair sign it
_SIGNING = frozenset({DATABASE, CACHE, SIGNING_KEYS_READ})
# the endpoints whose change mails the user (an account event, published right after the commit)
_MAILING = frozenset({DATABASE, CACHE, EVENTS})
SELF_SERVICE = frozenset({"owner", "walker"})

ENDPOINTS: tuple[Endpoint, ...] = (
    SERVICE.endpoint(
        "get_jwks",
        path="/.well-known/jwks.json",
        summary="Public keys that verify access tokens (current and previous)",
        tag="Health",
        uses=frozenset({SIGNING_KEYS_READ}),
    ),
    SERVICE.endpoint(
        "register",
        method="POST",
        path="/v1/auth/register",
        status_code=201,
        summary="Create an owner or walker account; answers a token pair (and mails a verification)",
        memory_mb=_HASHING_MB,
        uses=_SIGNING | {EVENTS},
    ),
    SERVICE.endpoint(
        "login",
        method="POST",
        path="/v1/auth/login",
        summary="Email, password and (when on) a TOTP code for a token pair",
        memory_mb=_HASHING_MB,
        uses=_SIGNING,
    ),
    SERVICE.endpoint(
        "refresh_tokens",
        method="POST",
        path="/v1/auth/refresh",
        summary="Spend a refresh token for a new pair (reuse revokes the family)",
        uses=_SIGNING,
    ),
    SERVICE.endpoint(
        "logout",
        method="POST",
        path="/v1/auth/logout",
        status_code=204,
        roles=ANY_USER,
        summary="Revoke the refresh token's family",
    ),
    SERVICE.endpoint("get_me", path="/v1/auth/me", roles=ANY_USER, summary="The calling user"),
    SERVICE.endpoint(
        "change_password",
        method="POST",
        path="/v1/auth/password",
        status_code=204,
        roles=ANY_USER,
        summary="Change the password; every refresh family of the user is revoked",
        memory_mb=_HASHING_MB,
        uses=_MAILING,
    ),
    SERVICE.endpoint(
        "setup_totp",
        method="POST",
        path="/v1/auth/mfa/totp/setup",
        roles=ANY_USER,
        summary="A new TOTP secret and its otpauth URI (pending until enabled)",
    ),
    SERVICE.endpoint(
        "enable_totp",
        method="POST",
        path="/v1/auth/mfa/totp/enable",
        status_code=204,
        roles=ANY_USER,
        summary="Turn TOTP on with a valid code",
    ),
    SERVICE.endpoint(
        "disable_totp",
        method="POST",
        path="/v1/auth/mfa/totp/disable",
        status_code=204,
        roles=ANY_USER,
        summary="Turn TOTP off with a valid code",
    ),
    SERVICE.endpoint(
        "request_email_verification",
        method="POST",
        path="/v1/auth/email/verification",
        status_code=202,
        roles=ANY_USER,
        summary="Mail a verification link to your email (rate limited)",
        uses=_MAILING,
    ),
    SERVICE.endpoint(
        "verify_email",
        method="POST",
        path="/v1/auth/email/verify",
        status_code=204,
        summary="Verify the email with the token of a verification link",
    ),
    SERVICE.endpoint(
        "forgot_password",
        method="POST",
        path="/v1/auth/password/forgot",
        status_code=202,
        summary="Mail a password reset link; the same answer whether or not the email has an account",
        uses=_MAILING,
    ),
    SERVICE.endpoint(
        "reset_password",
        method="POST",
        path="/v1/auth/password/reset",
        status_code=204,
        summary="Set a new password with a reset token; every refresh family of the user is revoked",
        memory_mb=_HASHING_MB,
        uses=_MAILING,
    ),
    SERVICE.endpoint(
        "export_me",
        path="/v1/auth/me/export",
        roles=ANY_USER,
        summary="Everything the platform holds about you, as JSON, a page (at most a few MB) at a time",
        memory_mb=512,
        # a page reads up to a few MB in one snapshot; API Gateway waits at most 29 s
        timeout_s=20,
        # an owner's export carries their home, its access secrets opened
        uses=frozenset({DATABASE, CACHE, HOME_ACCESS}),
    ),
    SERVICE.endpoint(
        "delete_me",
        method="DELETE",
        path="/v1/auth/me",
        status_code=202,
        roles=SELF_SERVICE,
        summary="Delete your account: personal data erased, bookings and the ledger kept anonymised",
        memory_mb=_HASHING_MB,
        # an account without a password confirms with a fresh ID token
        uses=_MAILING | {IDENTITY_PROVIDERS},
    ),
    SERVICE.endpoint(
        "sign_in_with_oidc",
        method="POST",
        path="/v1/auth/oidc/{provider}",
        summary="Sign in with Apple or Google: their ID token for a token pair (201 for a new account)",
        uses=_SIGNING | {EVENTS, IDENTITY_PROVIDERS},
    ),
    SERVICE.endpoint(
        "suspend_user",
        method="POST",
        path="/v1/admin/users/{user_id}/suspend",
        status_code=204,
        roles=ADMIN,
        summary="Suspend a user: no login, no refresh, live tokens refused",
        tag="Admin",
    ),
)

# The REST API's token authorizer; not an endpoint of its own. On the path of every request whose
# token API Gateway has not cached: it starts from a snapshot (see README "Cold starts"). It reads
# only the signing keys: no database, no cache (the HTTP edge checks suspensions).
AUTHORIZER: Function = SERVICE.function(
    "authorize", memory_mb=512, uses=frozenset({SIGNING_KEYS_READ}), snap_start=True
)

SCHEDULES: tuple[Schedule, ...] = (
    # a new signing key every 30 days; the previous one keeps verifying until its tokens expire
    SERVICE.schedule(
        "rotate_signing_keys", every_s=30 * 24 * 3600, uses=frozenset({SIGNING_KEYS_READ, SIGNING_KEYS_WRITE})
    ),
)
