"""Brute force: failed logins are limited per account (5) and per source address (20) in a
15-minute window, registrations per address (10 an hour); a 429 says when to come back."""

from __future__ import annotations

from tests.integration.auth.conftest import PASSWORD, AuthApi, assert_problem, login, register
from tests.integration.conftest import Answer

WRONG = "not the password at all"


def _assert_rate_limited(answer: Answer) -> None:
    assert_problem(answer, 429, "rate_limited")
    retry_after = answer.headers["retry-after"]
    assert retry_after.isdigit()
    assert int(retry_after) > 0


def test_sixth_login_after_five_failures_is_429_even_with_the_right_password(api: AuthApi) -> None:
    register(api)
    for _ in range(5):
        assert_problem(login(api, password=WRONG), 401, "invalid_credentials")

    answer = login(api)

    _assert_rate_limited(answer)
    assert int(answer.headers["retry-after"]) <= 15 * 60


def test_account_limit_holds_whichever_address_the_attempts_come_from(api: AuthApi) -> None:
    register(api)
    for n in range(5):
        assert_problem(login(api, password=WRONG, source_ip=f"198.51.100.{n}"), 401, "invalid_credentials")

    _assert_rate_limited(login(api, source_ip="192.0.2.99"))


def test_account_limit_counts_the_lowercased_email(api: AuthApi) -> None:
    register(api)
    for email in ("SAM@example.com", "Sam@Example.com", "sam@EXAMPLE.com", "sAm@example.com", "sam@example.COM"):
        assert_problem(login(api, email=email, password=WRONG), 401, "invalid_credentials")

    _assert_rate_limited(login(api))


def test_a_successful_login_clears_the_accounts_failures(api: AuthApi) -> None:
    register(api)
    for _ in range(4):
        assert_problem(login(api, password=WRONG), 401, "invalid_credentials")
    assert login(api).status == 200
    for _ in range(4):
        assert_problem(login(api, password=WRONG), 401, "invalid_credentials")

    assert login(api).status == 200


def test_one_address_is_limited_after_twenty_failures_across_accounts(api: AuthApi) -> None:
    register(api, email="victim@example.com")
    for n in range(20):  # a different account each time: the per-account limit never trips
        assert_problem(login(api, email=f"guess-{n}@example.com", password=WRONG), 401, "invalid_credentials")

    _assert_rate_limited(login(api, email="victim@example.com"))
    assert login(api, email="victim@example.com", source_ip="192.0.2.50").status == 200


def test_the_eleventh_registration_from_one_address_within_the_hour_is_429(api: AuthApi) -> None:
    for n in range(10):
        register(api, email=f"user-{n}@example.com", source_ip="198.51.100.20")

    answer = api.post(
        "/v1/auth/register",
        json_body={"email": "user-10@example.com", "password": PASSWORD, "role": "owner", "name": "Eleven"},
        source_ip="198.51.100.20",
    )

    _assert_rate_limited(answer)
    assert int(answer.headers["retry-after"]) <= 60 * 60
    assert_problem(login(api, email="user-10@example.com"), 401, "invalid_credentials")
    register(api, email="user-10@example.com", source_ip="198.51.100.21")
