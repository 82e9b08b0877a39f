"""The auth story over HTTP against `make run`: an owner registers, logs in, refreshes; the
operator admin (from DOGWALK_ADMIN_EMAIL / DOGWALK_ADMIN_PASSWORD) suspends them; they are out."""

from __future__ import annotations

from tests.e2e.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, RunningPlatform, http


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
