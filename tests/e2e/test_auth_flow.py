"""The auth story over HTTP against `make run`: an owner registers, logs in, refreshes; the
operator admin (from DOGWALK_ADMIN_EMAIL / DOGWALK_ADMIN_PASSWORD) suspends them; they are out.
And the accounts' flows the local platform serves: its mailbox and its stand-in Apple."""

from __future__ import annotations

from tests.e2e.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, RunningPlatform, http, wait_until


def test_register_login_refresh_then_suspension_locks_the_user_out(platform: RunningPlatform) -> None:
    base = platform.base
    owner = {"email": "e2e-owner@example.com", "password": "a walk around the block 2026", "role": "owner",
             "name": "E2E Owner"}  # fmt: skip
    registered = http("POST", f"{base}/v1/auth/register", owner)
    assert registered.status == 201, registered.body
    logged_in = http("POST", f"{base}/v1/auth/login", {"email": owner["email"], "password": owner["password"]})
    assert logged_in.status == 200
    refreshed = http("POST", f"{base}/v1/auth/refresh", {"refresh_token": logged_in.json()["refresh_token"]})
    assert refreshed.status == 200
    access = refreshed.json()["access_token"]
    assert http("GET", f"{base}/v1/auth/me", token=access).json()["email"] == owner["email"]

    admin = http("POST", f"{base}/v1/auth/login", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert admin.status == 200
    assert admin.json()["user"]["role"] == "admin"
    user_id = registered.json()["user"]["id"]
    suspended = http("POST", f"{base}/v1/admin/users/{user_id}/suspend", {}, token=admin.json()["access_token"])
    assert suspended.status == 204

    assert http("GET", f"{base}/v1/auth/me", token=access).status == 401
    assert http("POST", f"{base}/v1/auth/refresh", {"refresh_token": refreshed.json()["refresh_token"]}).status == 401
    again = http("POST", f"{base}/v1/auth/login", {"email": owner["email"], "password": owner["password"]})
    assert again.status == 403
    assert again.json()["code"] == "account_suspended"


def test_the_local_platform_shows_its_emails_and_plays_the_identity_providers(platform: RunningPlatform) -> None:
    """`make run` as a developer meets it: the verification email in `/_local/emails` (sent by the
    queue's consumer, asynchronously), the reset flow, and Sign in with Apple through the local issuer."""
    base = platform.base
    owner = {"email": "e2e-accounts@example.com", "password": "a walk around the park 2026", "role": "owner",
             "name": "E2E Accounts"}  # fmt: skip
    registered = http("POST", f"{base}/v1/auth/register", owner)
    assert registered.status == 201, registered.body
    assert registered.headers["cache-control"] == "no-store"
    assert registered.headers["strict-transport-security"].startswith("max-age=63072000")

    def emails() -> list[dict[str, str]]:
        items: list[dict[str, str]] = http("GET", f"{base}/_local/emails?to={owner['email']}").json()["items"]
        return items

    wait_until(lambda: any(e["subject"] == "Confirm your email" for e in emails()), 30, "the verification email")
    token = emails()[0]["text"].split("#token=", 1)[1].split()[0]
    assert http("POST", f"{base}/v1/auth/email/verify", {"token": token}).status == 204
    access = registered.json()["access_token"]
    assert http("GET", f"{base}/v1/auth/me", token=access).json()["email_verified"] is True

    assert http("POST", f"{base}/v1/auth/password/forgot", {"email": owner["email"]}).status == 202
    wait_until(lambda: any(e["subject"] == "Reset your password" for e in emails()), 30, "the reset email")
    reset = emails()[0]["text"].split("#token=", 1)[1].split()[0]
    new = "a longer walk around the park 2027"
    assert http("POST", f"{base}/v1/auth/password/reset", {"token": reset, "new_password": new}).status == 204
    assert http("POST", f"{base}/v1/auth/login", {"email": owner["email"], "password": new}).status == 200

    claims = {"sub": "e2e-apple-1", "email": "e2e@privaterelay.appleid.com", "email_verified": True, "nonce": "n-1"}
    id_token = http("POST", f"{base}/_local/oidc/apple/id-token", claims).json()["id_token"]
    signed_in = http("POST", f"{base}/v1/auth/oidc/apple", {"id_token": id_token, "nonce": "n-1", "name": "E2E Apple"})
    assert signed_in.status == 201, signed_in.body
    assert signed_in.json()["user"]["email"] == "e2e@privaterelay.appleid.com"
    replayed = http("POST", f"{base}/v1/auth/oidc/apple", {"id_token": id_token, "nonce": "n-1"})
    assert replayed.status == 401 and replayed.json()["code"] == "invalid_token"
