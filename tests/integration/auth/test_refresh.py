"""POST /v1/auth/refresh: rotation in families. A spent token presented again after the grace
period revokes its family (stolen token); within it, it is refused without revoking (the same
client racing itself); concurrent refreshes of one token spend it exactly once."""

from __future__ import annotations

import threading
from datetime import timedelta

import psycopg
import pytest
from psycopg.rows import dict_row

from dogwalk.auth import sessions
from dogwalk.errors import Unauthorized
from tests.conftest import Dependencies, insert_user
from tests.integration.auth.conftest import AuthApi, assert_problem, login, refresh, register
from tests.integration.conftest import token_for


def test_refresh_answers_a_new_pair(api: AuthApi) -> None:
    pair = register(api)

    answer = refresh(api, pair["refresh_token"])

    assert answer.status == 200
    renewed = answer.json()
    assert renewed["user"] == pair["user"]
    assert renewed["token_type"] == "Bearer"
    assert renewed["expires_in"] == 900
    assert renewed["refresh_token"] != pair["refresh_token"]
    assert renewed["access_token"] != pair["access_token"]
    assert api.get("/v1/auth/me", token=renewed["access_token"]).status == 200
    assert refresh(api, renewed["refresh_token"]).status == 200


def test_a_refresh_token_is_spent_by_its_refresh(api: AuthApi) -> None:
    pair = register(api)
    assert refresh(api, pair["refresh_token"]).status == 200

    assert_problem(refresh(api, pair["refresh_token"]), 401, "token_reused")


def test_a_spent_token_presented_after_the_grace_period_revokes_its_family(
    api: AuthApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sessions, "REUSE_GRACE", timedelta(0))
    pair = register(api)
    newer = refresh(api, pair["refresh_token"]).json()["refresh_token"]

    assert_problem(refresh(api, pair["refresh_token"]), 401, "token_reused")

    assert_problem(refresh(api, newer), 401, "invalid_token")


def test_reuse_revokes_only_the_stolen_tokens_family(api: AuthApi, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sessions, "REUSE_GRACE", timedelta(0))
    phone = register(api)
    laptop = login(api)
    refresh(api, phone["refresh_token"])

    assert_problem(refresh(api, phone["refresh_token"]), 401, "token_reused")

    assert refresh(api, laptop.json()["refresh_token"]).status == 200


def test_a_spent_token_presented_within_the_grace_period_is_refused_without_revoking(api: AuthApi) -> None:
    pair = register(api)
    winner = refresh(api, pair["refresh_token"]).json()["refresh_token"]

    assert_problem(refresh(api, pair["refresh_token"]), 401, "token_reused")

    assert refresh(api, winner).status == 200


def test_twenty_concurrent_refreshes_of_one_token_spend_it_exactly_once(api: AuthApi, state: Dependencies) -> None:
    token = register(api)["refresh_token"]
    start = threading.Barrier(20)
    outcomes: list[sessions.Rotated | Unauthorized | Exception] = []
    lock = threading.Lock()

    def rotate() -> None:
        with psycopg.connect(state.database_url, autocommit=True, row_factory=dict_row) as conn:
            start.wait(timeout=10)
            try:
                with conn.transaction():
                    outcome: sessions.Rotated | Unauthorized | Exception = sessions.rotate(conn, token)
            except Exception as exc:  # reported by the assertions below
                outcome = exc
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=rotate) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    rotated = [o for o in outcomes if isinstance(o, sessions.Rotated)]
    refused = [o for o in outcomes if isinstance(o, Unauthorized)]
    assert len(outcomes) == 20, outcomes
    assert len(rotated) == 1, outcomes
    assert len(refused) == 19, outcomes
    assert {o.code for o in refused} == {"token_reused"}
    assert refresh(api, rotated[0].refresh_token).status == 200  # the race revoked nothing


def test_a_garbage_refresh_token_is_401(api: AuthApi) -> None:
    assert_problem(refresh(api, "not-a-refresh-token"), 401, "invalid_token")


def test_refresh_of_a_suspended_user_is_401(api: AuthApi, state: Dependencies) -> None:
    pair = register(api)
    admin = insert_user(state.database_url, "admin")
    assert api.post(f"/v1/admin/users/{pair['user']['id']}/suspend", token=token_for(admin)).status == 204

    assert_problem(refresh(api, pair["refresh_token"]), 401, "invalid_token")
