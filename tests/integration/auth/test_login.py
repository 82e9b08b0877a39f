"""POST /v1/auth/login: the right password answers a token pair; an unknown email and a wrong
password are indistinguishable (answer and time); old hash parameters are upgraded on login."""

from __future__ import annotations

import statistics
import time
import uuid

import psycopg
from argon2 import PasswordHasher

from tests.conftest import Dependencies
from tests.integration.auth.conftest import PASSWORD, AuthApi, assert_problem, login, query, register


def test_login_with_the_right_password_answers_a_token_pair(api: AuthApi) -> None:
    user = register(api)["user"]

    answer = login(api)

    assert answer.status == 200
    body = answer.json()
    assert body["user"] == user
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert body["access_token"]
    assert body["refresh_token"]
    assert api.get("/v1/auth/me", token=body["access_token"]).status == 200


def test_unknown_email_and_wrong_password_get_the_same_answer(api: AuthApi) -> None:
    register(api)

    unknown = login(api, email="nobody@example.com")
    wrong = login(api, password="not the password at all")

    unknown_body = assert_problem(unknown, 401, "invalid_credentials")
    wrong_body = assert_problem(wrong, 401, "invalid_credentials")
    assert unknown_body.pop("request_id") != wrong_body.pop("request_id")
    assert unknown_body == wrong_body
    assert unknown.headers.keys() == wrong.headers.keys()


def _median_duration(api: AuthApi, emails: list[str], source_ip: str) -> float:
    durations = []
    for email in emails:
        started = time.perf_counter()
        assert_problem(
            login(api, email=email, password="not the password at all", source_ip=source_ip), 401, "invalid_credentials"
        )
        durations.append(time.perf_counter() - started)
    return statistics.median(durations)


def test_unknown_email_takes_about_as_long_as_a_wrong_password(api: AuthApi) -> None:
    register(api)
    login(api, email="warm-up@example.com", source_ip="198.51.100.1")  # the dummy hash is made once

    wrong_password = _median_duration(api, ["sam@example.com"] * 4, "198.51.100.2")
    unknown_email = _median_duration(api, [f"nobody-{n}@example.com" for n in range(4)], "198.51.100.3")

    # a property, not a benchmark: both verify one Argon2id hash of the same cost
    assert unknown_email >= 0.5 * wrong_password


def test_login_upgrades_a_hash_made_with_weaker_parameters(api: AuthApi, state: Dependencies) -> None:
    weak_hash = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    user_id = str(uuid.uuid4())
    with psycopg.connect(state.database_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO users (id, email, role, name, password_hash)"
            " VALUES (%s, 'old@example.com', 'owner', 'Old', %s)",
            (user_id, weak_hash),
        )

    answer = login(api, email="old@example.com")

    assert answer.status == 200
    [row] = query(state.database_url, "SELECT password_hash FROM users WHERE id = %s", user_id)
    assert row["password_hash"].startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert login(api, email="old@example.com").status == 200
