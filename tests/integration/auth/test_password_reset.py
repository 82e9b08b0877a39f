"""Password reset: `forgot` answers alike, in the same time, for known and unknown emails; the
mailed token is single use, 30 minutes, voided by a newer one; a reset revokes every family,
clears the login failures, keeps TOTP required and tells the user; one of concurrent resets wins;
rate limits per IP and per email fail closed."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pyotp

from dogwalk.auth import password_reset
from dogwalk.errors import BadRequest
from tests.conftest import Dependencies, insert_user
from tests.integration.auth.conftest import (
    CHANGED_SUBJECT,
    PASSWORD,
    RESET_SUBJECT,
    AuthApi,
    Mail,
    assert_problem,
    login,
    query,
    refresh,
    register,
)
from tests.integration.conftest import Answer

NEW_PASSWORD = "a brand new passphrase 42"


def _forgot(api: AuthApi, email: str = "sam@example.com", source_ip: str = "198.51.100.20") -> Answer:
    return api.post("/v1/auth/password/forgot", json_body={"email": email}, source_ip=source_ip)


def _reset(api: AuthApi, token: str, password: str = NEW_PASSWORD) -> Answer:
    return api.post("/v1/auth/password/reset", json_body={"token": token, "new_password": password})


def _reset_token(api: AuthApi, mail: Mail, email: str = "sam@example.com") -> str:
    assert _forgot(api, email).status == 202
    mail.deliver()
    return mail.token(email, RESET_SUBJECT)


def test_a_reset_sets_the_password_revokes_every_family_and_tells_the_user(api: AuthApi, mail: Mail) -> None:
    first = register(api)
    second = login(api).json()
    token = _reset_token(api, mail)

    assert _reset(api, token).status == 204

    assert_problem(refresh(api, first["refresh_token"]), 401, "invalid_token")
    assert_problem(refresh(api, second["refresh_token"]), 401, "invalid_token")
    assert_problem(login(api), 401, "invalid_credentials")
    assert login(api, password=NEW_PASSWORD).status == 200
    mail.deliver()
    assert mail.emails("sam@example.com")[0]["subject"] == CHANGED_SUBJECT


def test_a_used_token_is_refused(api: AuthApi, mail: Mail) -> None:
    register(api)
    token = _reset_token(api, mail)
    assert _reset(api, token).status == 204

    assert_problem(_reset(api, token, "yet another passphrase 7"), 400, "invalid_token")
    assert login(api, password=NEW_PASSWORD).status == 200


def test_a_token_expires_after_30_minutes(api: AuthApi, mail: Mail) -> None:
    register(api)
    token = _reset_token(api, mail)

    try:
        password_reset.reset_password(
            token, NEW_PASSWORD, "198.51.100.21", now=datetime.now(UTC) + timedelta(minutes=31)
        )
    except BadRequest as refused:
        assert refused.code == "invalid_token"
    else:
        raise AssertionError("an expired token reset the password")
    assert login(api).status == 200
    # still good within its 30 minutes
    password_reset.reset_password(token, NEW_PASSWORD, "198.51.100.21", now=datetime.now(UTC) + timedelta(minutes=29))
    assert login(api, password=NEW_PASSWORD).status == 200


def test_a_newer_token_voids_the_older_one(api: AuthApi, mail: Mail) -> None:
    register(api)
    older = _reset_token(api, mail)
    newer = _reset_token(api, mail)
    assert older != newer

    assert_problem(_reset(api, older), 400, "invalid_token")
    assert _reset(api, newer).status == 204


def test_of_concurrent_resets_with_one_token_exactly_one_wins(api: AuthApi, mail: Mail, state: Dependencies) -> None:
    register(api)
    token = _reset_token(api, mail)
    outcomes: list[str] = []
    start = threading.Barrier(6)

    def reset(n: int) -> None:
        from dogwalk.adapters import db

        start.wait()
        try:
            password_reset.reset_password(token, f"{NEW_PASSWORD} {n}", f"198.51.100.{30 + n}")
            outcomes.append(f"won {n}")
        except BadRequest as refused:
            outcomes.append(refused.code)
        finally:
            db.reset()

    threads = [threading.Thread(target=reset, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    winners = [outcome for outcome in outcomes if outcome.startswith("won")]
    assert len(winners) == 1 and outcomes.count("invalid_token") == 5, outcomes
    assert login(api, password=f"{NEW_PASSWORD} {winners[0].split()[1]}").status == 200
    assert query(state.database_url, "SELECT count(*) AS n FROM account_tokens WHERE used_at IS NOT NULL") == [{"n": 1}]


def test_a_weak_password_is_422_and_leaves_the_token_usable(api: AuthApi, mail: Mail) -> None:
    register(api)
    token = _reset_token(api, mail)

    body = assert_problem(_reset(api, token, "password1234"), 422, "validation_error")

    assert [error["loc"] for error in body["errors"]] == [["body", "new_password"]]
    assert _reset(api, token).status == 204


def test_a_reset_clears_the_accounts_login_failures(api: AuthApi, mail: Mail) -> None:
    register(api)
    for n in range(5):
        login(api, password="not the password at all", source_ip=f"198.51.100.{40 + n}")
    assert_problem(login(api, password=NEW_PASSWORD, source_ip="198.51.100.50"), 429, "rate_limited")

    assert _reset(api, _reset_token(api, mail)).status == 204

    assert login(api, password=NEW_PASSWORD, source_ip="198.51.100.51").status == 200


def test_totp_stays_required_at_the_next_login(api: AuthApi, mail: Mail) -> None:
    pair = register(api)
    secret = api.post("/v1/auth/mfa/totp/setup", token=pair["access_token"]).json()["secret"]
    assert (
        api.post(
            "/v1/auth/mfa/totp/enable", json_body={"code": pyotp.TOTP(secret).now()}, token=pair["access_token"]
        ).status
        == 204
    )

    assert _reset(api, _reset_token(api, mail)).status == 204

    assert_problem(login(api, password=NEW_PASSWORD), 401, "mfa_required")


def test_an_unknown_email_gets_the_same_answer_and_no_email(api: AuthApi, mail: Mail) -> None:
    register(api)

    known = _forgot(api, "sam@example.com", "198.51.100.60")
    unknown = _forgot(api, "nobody@example.com", "198.51.100.61")
    mail.deliver()

    assert known.status == unknown.status == 202
    assert known.body == unknown.body
    assert known.headers.keys() == unknown.headers.keys()
    assert mail.emails("nobody@example.com") == []
    assert [email["subject"] for email in mail.emails("sam@example.com")].count(RESET_SUBJECT) == 1


def _durations(api: AuthApi, emails: list[str], first_ip: int) -> list[float]:
    spent = []
    for n, email in enumerate(emails):
        started = time.perf_counter()
        assert _forgot(api, email, f"198.51.{first_ip}.{n}").status == 202
        spent.append(time.perf_counter() - started)
    return spent


def test_an_unknown_email_takes_as_long_as_a_known_one(api: AuthApi, mail: Mail, state: Dependencies) -> None:
    """Measured like the login's: medians of interleaved runs. Both do the same work by design (two
    rate-limit counts, one outbox row, its publish), so they agree within the noise of a busy machine."""
    known = [insert_user(state.database_url).email for _ in range(24)]
    _durations(api, ["warm-up@example.com"], 10)
    known_s: list[float] = []
    unknown_s: list[float] = []
    for round_ in range(6):  # interleaved, so that the machine's load falls on both alike
        known_s += _durations(api, known[round_ * 4 : round_ * 4 + 4], 20 + round_)
        unknown_s += _durations(api, [f"nobody-{round_}-{n}@example.com" for n in range(4)], 40 + round_)

    known_median, unknown_median = statistics.median(known_s), statistics.median(unknown_s)
    print(f"forgot: known {known_median * 1000:.2f} ms, unknown {unknown_median * 1000:.2f} ms (medians of 24)")
    assert abs(known_median - unknown_median) <= 0.3 * max(known_median, unknown_median) + 0.002


def test_forgot_is_rate_limited_per_email_and_per_ip(api: AuthApi) -> None:
    for n in range(5):
        assert _forgot(api, "sam@example.com", f"198.51.100.{70 + n}").status == 202
    assert_problem(_forgot(api, "sam@example.com", "198.51.100.80"), 429, "rate_limited")
    assert _forgot(api, "other@example.com", "198.51.100.80").status == 202  # another address is its own count

    for n in range(10):
        assert _forgot(api, f"someone-{n}@example.com", "198.51.100.90").status == 202
    assert_problem(_forgot(api, "anyone@example.com", "198.51.100.90"), 429, "rate_limited")


def test_forgot_and_reset_fail_closed_without_redis(api: AuthApi, redis_goes_down: Callable[[], None]) -> None:
    redis_goes_down()

    assert_problem(_forgot(api), 503, "service_unavailable")
    assert_problem(_reset(api, "some-token"), 503, "service_unavailable")


def test_an_unknown_token_is_400_invalid_token(api: AuthApi) -> None:
    assert_problem(_reset(api, "not-a-token"), 400, "invalid_token")


def test_changing_the_password_also_tells_the_user(api: AuthApi, mail: Mail) -> None:
    pair = register(api)
    changed = api.post(
        "/v1/auth/password",
        json_body={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        token=pair["access_token"],
    )
    assert changed.status == 204
    mail.deliver()

    email = next(item for item in mail.emails("sam@example.com") if item["subject"] == CHANGED_SUBJECT)
    assert "If that wasn't you" in email["text"] and "signed out" in email["text"]
    assert "notification settings" not in email["text"]  # sent whatever the preferences
