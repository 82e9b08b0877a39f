"""POST /v1/auth/register: a new owner or walker with a token pair; weak passwords, duplicate
emails, admins and unknown fields refused without writing anything."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from tests.conftest import Dependencies
from tests.integration.auth.conftest import PASSWORD, AuthApi, assert_problem, login, query, register


def _registration(**overrides: Any) -> dict[str, Any]:
    body = {"email": "sam@example.com", "password": PASSWORD, "role": "owner", "name": "Sam Walker"}
    body.update(overrides)
    return body


def test_register_answers_201_with_the_user_and_a_token_pair(api: AuthApi) -> None:
    answer = api.post("/v1/auth/register", json_body=_registration(role="walker", phone="+447700900123"))

    assert answer.status == 201
    body = answer.json()
    assert set(body) == {"user", "access_token", "refresh_token", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert body["user"]["email"] == "sam@example.com"
    assert body["user"]["role"] == "walker"
    assert body["user"]["phone"] == "+447700900123"
    assert body["user"]["mfa_enabled"] is False
    assert api.get("/v1/auth/me", token=body["access_token"]).json()["id"] == body["user"]["id"]


def test_register_stores_an_argon2id_hash_with_owasp_parameters(api: AuthApi, state: Dependencies) -> None:
    user = register(api)["user"]

    [row] = query(state.database_url, "SELECT password_hash FROM users WHERE id = %s", user["id"])

    assert row["password_hash"].startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert PASSWORD not in row["password_hash"]


def test_register_stores_only_a_sha256_of_the_refresh_token(api: AuthApi, state: Dependencies) -> None:
    pair = register(api)
    token = pair["refresh_token"]

    stored = query(
        state.database_url,
        "SELECT t.token_hash FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id WHERE f.user_id = %s",
        pair["user"]["id"],
    )

    assert [bytes(row["token_hash"]) for row in stored] == [hashlib.sha256(token.encode()).digest()]
    clear_text = query(
        state.database_url, "SELECT count(*) AS n FROM refresh_tokens WHERE encode(token_hash, 'escape') = %s", token
    )
    assert clear_text[0]["n"] == 0


def test_email_is_case_insensitive(api: AuthApi) -> None:
    register(api, email="Sam@X.com")

    answer = login(api, email="sam@x.com")

    assert answer.status == 200
    assert answer.json()["user"]["email"] == "sam@x.com"


def test_a_second_registration_with_the_same_email_is_409_email_taken(api: AuthApi, state: Dependencies) -> None:
    register(api, email="sam@example.com")

    answer = api.post("/v1/auth/register", json_body=_registration(email="SAM@example.com", name="Another Sam"))

    assert_problem(answer, 409, "email_taken")
    assert query(state.database_url, "SELECT name FROM users") == [{"name": "Sam Walker"}]


WEAK_PASSWORDS = {
    "under 12 characters": "Tr0ub4dor&3",
    "over 128 characters": "x7!" * 43,
    "a common password": "password1234",
    "another common password": "QwertyUIOP123",
    "the email itself": "Sam.Walker@Example.com",
}


@pytest.mark.parametrize("kind", WEAK_PASSWORDS)
def test_weak_password_is_422_on_the_password_field_and_writes_nothing(
    kind: str, api: AuthApi, state: Dependencies
) -> None:
    answer = api.post(
        "/v1/auth/register", json_body=_registration(email="sam.walker@example.com", password=WEAK_PASSWORDS[kind])
    )

    body = assert_problem(answer, 422, "validation_error")
    assert body["errors"]
    assert all(error["loc"] == ["body", "password"] and error["msg"] for error in body["errors"])
    assert query(state.database_url, "SELECT count(*) AS n FROM users") == [{"n": 0}]


def test_admins_cannot_register(api: AuthApi, state: Dependencies) -> None:
    answer = api.post("/v1/auth/register", json_body=_registration(role="admin"))

    assert_problem(answer, 422, "validation_error")
    assert query(state.database_url, "SELECT count(*) AS n FROM users") == [{"n": 0}]


def test_an_unknown_field_is_422_and_writes_nothing(api: AuthApi, state: Dependencies) -> None:
    answer = api.post("/v1/auth/register", json_body=_registration(is_verified=True))

    body = assert_problem(answer, 422, "validation_error")
    assert any(error["loc"][-1] == "is_verified" for error in body["errors"])
    assert query(state.database_url, "SELECT count(*) AS n FROM users") == [{"n": 0}]
