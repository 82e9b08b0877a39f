"""TOTP: set up (pending), enable and disable with a valid code; with it on, login needs a code,
and every code is accepted once, even within its window.

Through HTTP the server reads the real clock, so codes are made for the current step or the next
one: both stay inside the ±1 step window if the clock crosses a step boundary during the test.
The window and replay rules themselves are pinned below at the domain, with injected time."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pyotp

from dogwalk.adapters import db
from dogwalk.auth import totp
from tests.conftest import Dependencies, insert_user
from tests.integration.auth.conftest import AuthApi, assert_problem, login, register

STEP_S = 30


def _code(secret: str, steps_ahead: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + steps_ahead * STEP_S)


def _wrong_code(secret: str) -> str:
    """A code that no step near now has."""
    near = {_code(secret, steps) for steps in range(-3, 4)}
    return next(candidate for n in range(10) if (candidate := f"{n}" * 6) not in near)


def _setup(api: AuthApi, access_token: str) -> str:
    answer = api.post("/v1/auth/mfa/totp/setup", token=access_token)
    assert answer.status == 200, answer.body
    return answer.json()["secret"]


def _with_totp_on(api: AuthApi) -> tuple[dict[str, Any], str]:
    """A registered account whose TOTP was enabled with the current step's code; its secret."""
    pair = register(api)
    secret = _setup(api, pair["access_token"])
    enabled = api.post("/v1/auth/mfa/totp/enable", json_body={"code": _code(secret)}, token=pair["access_token"])
    assert enabled.status == 204, enabled.body
    return pair, secret


def _mfa_enabled(api: AuthApi, access_token: str) -> bool:
    return api.get("/v1/auth/me", token=access_token).json()["mfa_enabled"]


def test_setup_answers_a_secret_and_its_otpauth_uri(api: AuthApi) -> None:
    pair = register(api, email="sam@example.com")

    answer = api.post("/v1/auth/mfa/totp/setup", token=pair["access_token"])

    assert answer.status == 200
    body = answer.json()
    assert body["otpauth_uri"].startswith("otpauth://totp/DogWalk:")
    assert "sam%40example.com" in body["otpauth_uri"]
    assert parse_qs(urlsplit(body["otpauth_uri"]).query)["secret"] == [body["secret"]]
    assert parse_qs(urlsplit(body["otpauth_uri"]).query)["issuer"] == ["DogWalk"]
    assert _mfa_enabled(api, pair["access_token"]) is False
    assert login(api).status == 200  # pending until enabled


def test_enabling_with_a_wrong_code_is_422_and_leaves_mfa_off(api: AuthApi) -> None:
    pair = register(api)
    secret = _setup(api, pair["access_token"])

    answer = api.post("/v1/auth/mfa/totp/enable", json_body={"code": _wrong_code(secret)}, token=pair["access_token"])

    assert_problem(answer, 422, "invalid_mfa_code")
    assert _mfa_enabled(api, pair["access_token"]) is False
    assert login(api).status == 200


def test_enabling_without_a_setup_first_is_refused(api: AuthApi) -> None:
    pair = register(api)

    answer = api.post("/v1/auth/mfa/totp/enable", json_body={"code": "123456"}, token=pair["access_token"])

    assert_problem(answer, 409, "invalid_state")


def test_enabling_with_a_valid_code_turns_mfa_on(api: AuthApi) -> None:
    pair = register(api)
    secret = _setup(api, pair["access_token"])

    answer = api.post("/v1/auth/mfa/totp/enable", json_body={"code": _code(secret)}, token=pair["access_token"])

    assert answer.status == 204
    assert _mfa_enabled(api, pair["access_token"]) is True


def test_setup_while_mfa_is_on_is_409(api: AuthApi) -> None:
    pair, _ = _with_totp_on(api)

    assert_problem(api.post("/v1/auth/mfa/totp/setup", token=pair["access_token"]), 409, "mfa_already_enabled")


def test_login_with_mfa_on_and_no_code_is_401_mfa_required(api: AuthApi) -> None:
    _with_totp_on(api)

    assert_problem(login(api), 401, "mfa_required")


def test_login_with_a_fresh_code_succeeds_and_the_same_code_is_refused_after(api: AuthApi) -> None:
    _, secret = _with_totp_on(api)
    fresh = _code(secret, steps_ahead=1)  # the enabling code spent the current step

    assert login(api, totp_code=fresh).status == 200

    assert_problem(login(api, totp_code=fresh), 401, "invalid_mfa_code")


def test_the_code_that_enabled_mfa_cannot_log_in(api: AuthApi) -> None:
    pair = register(api)
    secret = _setup(api, pair["access_token"])
    code = _code(secret)
    assert api.post("/v1/auth/mfa/totp/enable", json_body={"code": code}, token=pair["access_token"]).status == 204

    assert_problem(login(api, totp_code=code), 401, "invalid_mfa_code")


def test_a_wrong_code_with_the_right_password_is_401_and_counts_as_a_failure(api: AuthApi) -> None:
    _, secret = _with_totp_on(api)
    for _ in range(5):
        assert_problem(login(api, totp_code=_wrong_code(secret)), 401, "invalid_mfa_code")

    assert_problem(login(api, totp_code=_code(secret, steps_ahead=1)), 429, "rate_limited")


def test_disabling_needs_a_valid_unused_code(api: AuthApi) -> None:
    pair = register(api)
    secret = _setup(api, pair["access_token"])
    used = _code(secret)
    assert api.post("/v1/auth/mfa/totp/enable", json_body={"code": used}, token=pair["access_token"]).status == 204

    refused = api.post("/v1/auth/mfa/totp/disable", json_body={"code": used}, token=pair["access_token"])
    wrong = api.post("/v1/auth/mfa/totp/disable", json_body={"code": _wrong_code(secret)}, token=pair["access_token"])
    assert_problem(refused, 422, "invalid_mfa_code")
    assert_problem(wrong, 422, "invalid_mfa_code")
    assert _mfa_enabled(api, pair["access_token"]) is True

    answer = api.post("/v1/auth/mfa/totp/disable", json_body={"code": _code(secret, 1)}, token=pair["access_token"])

    assert answer.status == 204
    assert _mfa_enabled(api, pair["access_token"]) is False
    assert login(api).status == 200


# The window and single use, with time injected (`now=`): a step is 30 s; T is the middle of one.
T = 1_800_000_015.0


def _enabled_at(state: Dependencies, now: float) -> tuple[str, str]:
    """A user with TOTP enabled by the code of `now`'s step; (user id, secret)."""
    user = insert_user(state.database_url)
    with db.transaction() as conn:
        secret = totp.begin_setup(conn, user.id, user.email).secret
        totp.enable(conn, user.id, pyotp.TOTP(secret).at(now), now=now)
    return user.id, secret


def _verify(user_id: str, secret: str, code: str, now: float) -> bool:
    with db.transaction() as conn:
        return totp.verify_login_code(conn, user_id, secret, code, now=now)


def test_codes_of_the_previous_and_next_step_are_accepted_two_steps_away_are_not(state: Dependencies) -> None:
    user_id, secret = _enabled_at(state, T - 10 * STEP_S)
    codes = pyotp.TOTP(secret)

    assert _verify(user_id, secret, codes.at(T - 2 * STEP_S), T) is False
    assert _verify(user_id, secret, codes.at(T - STEP_S), T) is True
    assert _verify(user_id, secret, codes.at(T + 2 * STEP_S), T) is False
    assert _verify(user_id, secret, codes.at(T + STEP_S), T) is True


def test_a_code_is_accepted_once_within_its_window(state: Dependencies) -> None:
    user_id, secret = _enabled_at(state, T - 10 * STEP_S)
    code = pyotp.TOTP(secret).at(T)

    assert _verify(user_id, secret, code, T) is True
    assert _verify(user_id, secret, code, T) is False
    assert _verify(user_id, secret, code, T + STEP_S) is False  # still inside the window


def test_an_older_code_is_refused_once_a_newer_one_was_accepted(state: Dependencies) -> None:
    user_id, secret = _enabled_at(state, T - 10 * STEP_S)
    codes = pyotp.TOTP(secret)

    assert _verify(user_id, secret, codes.at(T + STEP_S), T) is True

    assert _verify(user_id, secret, codes.at(T), T) is False
    assert _verify(user_id, secret, codes.at(T + 2 * STEP_S), T + STEP_S) is True
