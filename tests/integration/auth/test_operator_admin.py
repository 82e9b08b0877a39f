"""The operator admin: made (or its password reset) from DOGWALK_ADMIN_EMAIL and
DOGWALK_ADMIN_PASSWORD when the platform starts or the migration function runs; never by
promoting someone's account, never through the API."""

from __future__ import annotations

import json

import pytest

from dogwalk.auth import accounts
from dogwalk.config import settings
from local.runtime import LambdaContext
from tests.conftest import REPO, Dependencies
from tests.integration.auth.conftest import AuthApi, assert_problem, login, query, register

ADMIN_EMAIL = "ops@dogwalk.example"
ADMIN_PASSWORD = "operator passphrase 2026"


def test_ensure_operator_admin_creates_an_admin_who_can_log_in(api: AuthApi) -> None:
    accounts.ensure_operator_admin(ADMIN_EMAIL, ADMIN_PASSWORD)

    answer = login(api, email=ADMIN_EMAIL, password=ADMIN_PASSWORD)

    assert answer.status == 200
    assert answer.json()["user"]["role"] == "admin"


def test_ensure_operator_admin_again_with_another_password_resets_it(api: AuthApi, state: Dependencies) -> None:
    accounts.ensure_operator_admin(ADMIN_EMAIL, ADMIN_PASSWORD)

    accounts.ensure_operator_admin(ADMIN_EMAIL.upper(), "a newer operator passphrase")

    assert login(api, email=ADMIN_EMAIL, password="a newer operator passphrase").status == 200
    assert_problem(login(api, email=ADMIN_EMAIL, password=ADMIN_PASSWORD), 401, "invalid_credentials")
    assert query(state.database_url, "SELECT role FROM users") == [{"role": "admin"}]


def test_ensure_operator_admin_refuses_an_email_that_belongs_to_an_owner(api: AuthApi, state: Dependencies) -> None:
    owner = register(api, email="sam@example.com")

    with pytest.raises(RuntimeError):
        accounts.ensure_operator_admin("sam@example.com", ADMIN_PASSWORD)

    [row] = query(state.database_url, "SELECT role FROM users WHERE id = %s", owner["user"]["id"])
    assert row["role"] == "owner"
    assert_problem(login(api, email="sam@example.com", password=ADMIN_PASSWORD), 401, "invalid_credentials")
    assert login(api, email="sam@example.com").status == 200


def test_admins_cannot_register_through_the_api(api: AuthApi, state: Dependencies) -> None:
    answer = api.post(
        "/v1/auth/register",
        json_body={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "role": "admin", "name": "Mallory"},
    )

    assert_problem(answer, 422, "validation_error")
    assert query(state.database_url, "SELECT count(*) AS n FROM users") == [{"n": 0}]


def test_the_migration_function_ensures_the_operator_admin_from_the_environment(
    api: AuthApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    from operations import run_migrations

    monkeypatch.setenv("DOGWALK_ADMIN_EMAIL", ADMIN_EMAIL)
    monkeypatch.setenv("DOGWALK_ADMIN_PASSWORD", ADMIN_PASSWORD)
    event = json.loads((REPO / "events" / "run_migrations.json").read_text())

    settings.cache_clear()  # the settings are read once per container; this one starts now
    try:
        result = run_migrations.lambda_handler(event, LambdaContext("run_migrations"))
    finally:
        settings.cache_clear()

    assert result["PhysicalResourceId"] == "migrations"
    answer = login(api, email=ADMIN_EMAIL, password=ADMIN_PASSWORD)
    assert answer.status == 200
    assert answer.json()["user"]["role"] == "admin"
