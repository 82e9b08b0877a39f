"""Holes the first review of the auth service found, pinned: concurrent guesses, guessing the
current password with a stolen token, the operator reset, and Unicode forms of one password."""

from __future__ import annotations

import unicodedata

import pytest

from dogwalk.auth import accounts
from dogwalk.errors import RateLimited
from tests.integration.auth.conftest import AuthApi, assert_problem, login, refresh, register


def test_attempts_are_counted_when_they_start_so_concurrent_guesses_cannot_exceed_the_limit(api: AuthApi) -> None:
    register(api, email="target@example.com")
    in_flight = [accounts._count_attempt("target@example.com", f"198.51.100.{n}") for n in range(5)]

    with pytest.raises(RateLimited):
        accounts._count_attempt("target@example.com", "198.51.100.99")
    assert len(in_flight) == 5


def test_a_right_password_takes_its_attempt_back(api: AuthApi) -> None:
    register(api, email="right@example.com")
    for _ in range(4):
        assert login(api, email="right@example.com", password="wrong password 2026").status == 401
    for _ in range(3):
        assert login(api, email="right@example.com").status == 200
    for _ in range(4):
        assert login(api, email="right@example.com", password="wrong password 2026").status == 401

    assert login(api, email="right@example.com").status == 200


def test_guessing_the_current_password_on_change_is_rate_limited(api: AuthApi) -> None:
    pair = register(api, email="stolen@example.com")
    change = {"current_password": "a guess at it 2026", "new_password": "a brand new passphrase 2026"}
    for _ in range(5):
        assert api.post("/v1/auth/password", json_body=change, token=pair["access_token"]).status == 401

    answer = api.post("/v1/auth/password", json_body=change, token=pair["access_token"])

    assert_problem(answer, 429, "rate_limited")
    assert int(answer.headers["retry-after"]) > 0


def test_operator_reset_to_the_same_password_keeps_the_sessions(api: AuthApi) -> None:
    accounts.ensure_operator_admin("ops@dogwalk.example", "operator passphrase 2026")
    pair = login(api, email="ops@dogwalk.example", password="operator passphrase 2026").json()

    accounts.ensure_operator_admin("ops@dogwalk.example", "operator passphrase 2026")

    assert refresh(api, pair["refresh_token"]).status == 200


def test_operator_reset_to_a_new_password_ends_the_sessions(api: AuthApi) -> None:
    accounts.ensure_operator_admin("ops@dogwalk.example", "operator passphrase 2026")
    pair = login(api, email="ops@dogwalk.example", password="operator passphrase 2026").json()

    accounts.ensure_operator_admin("ops@dogwalk.example", "another operator passphrase 2027")

    assert_problem(refresh(api, pair["refresh_token"]), 401, "invalid_token")


def test_a_password_typed_composed_or_decomposed_is_the_same_password(api: AuthApi) -> None:
    composed = unicodedata.normalize("NFC", "crème brûlée walks 2026")
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    register(api, email="unicode@example.com", password=composed)

    assert login(api, email="unicode@example.com", password=decomposed).status == 200
