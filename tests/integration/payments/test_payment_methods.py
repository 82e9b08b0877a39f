"""Saved payment methods through localstripe: the card stays at the gateway, we keep its id,
brand, last 4 and expiry; Idempotency-Key makes a retried save answer as the first."""

from __future__ import annotations

import threading

import psycopg
import pytest
from psycopg.rows import dict_row

from dogwalk.edge import idempotency
from dogwalk.errors import IdempotencyConflict
from tests.conftest import Dependencies, SeededUser, insert_user
from tests.integration.conftest import Api, assert_problem, token_for


@pytest.fixture
def owner(state: Dependencies) -> SeededUser:
    return insert_user(state.database_url, "owner")


def save(api: Api, user: SeededUser, token: str, key: str | None = None):  # type: ignore[no-untyped-def]
    headers = {"Idempotency-Key": key} if key else None
    return api.post("/v1/payments/methods", json_body={"gateway_token": token}, token=token_for(user), headers=headers)


def test_a_test_card_is_saved_with_its_description_only(api: Api, owner: SeededUser, state: Dependencies) -> None:
    answer = save(api, owner, "pm_card_visa")

    assert answer.status == 201, answer.body
    body = answer.json()
    assert (body["brand"], body["last4"]) == ("visa", "4242")
    assert 1 <= body["exp_month"] <= 12 and body["exp_year"] >= 2026
    with psycopg.connect(state.database_url, row_factory=dict_row) as conn:
        row = conn.execute("SELECT * FROM payment_methods WHERE id = %s", (body["id"],)).fetchone()
        assert row is not None and row["gateway_id"].startswith("pm_")
        assert set(row) == {"id", "owner_id", "gateway_id", "brand", "last4", "exp_month", "exp_year", "created_at"}
        assert conn.execute("SELECT count(*) AS n FROM payment_customers").fetchone() == {"n": 1}


def test_a_card_that_will_decline_is_still_saved(api: Api, owner: SeededUser) -> None:
    answer = save(api, owner, "pm_card_chargeCustomerFail")

    assert answer.status == 201
    assert answer.json()["last4"] == "0341"


def test_a_token_the_gateway_does_not_know_is_422(api: Api, owner: SeededUser) -> None:
    assert_problem(save(api, owner, "pm_no_such_thing"), 422, "validation_error")


@pytest.mark.parametrize("token", ["pm_card_visa\n", "pm ü", "tok/../x", "pm_card_\u00e9", "%2Fpm"])
def test_a_token_that_is_no_gateway_id_is_422_before_the_gateway_is_asked(
    api: Api, owner: SeededUser, state: Dependencies, token: str
) -> None:
    # such a token in the gateway call's idempotency key (an HTTP header) answered 503 before
    answer = save(api, owner, token)

    assert_problem(answer, 422, "validation_error")
    assert answer.json()["errors"][0]["loc"] == ["body", "gateway_token"]
    with psycopg.connect(state.database_url) as conn:
        assert conn.execute("SELECT count(*) FROM payment_customers").fetchone() == (0,)


def test_the_longest_token_is_asked_of_the_gateway(api: Api, owner: SeededUser) -> None:
    # 255 characters; the call's idempotency key holds its digest, within Stripe's 255 characters
    answer = save(api, owner, "pm_" + "x" * 252)

    assert_problem(answer, 422, "validation_error")
    assert answer.json()["errors"][0]["loc"] == ["body"]  # the gateway's "no such payment method"


def test_owners_list_only_their_own_methods(api: Api, owner: SeededUser, state: Dependencies) -> None:
    other = insert_user(state.database_url, "owner")
    save(api, owner, "pm_card_visa")
    save(api, owner, "pm_card_chargeCustomerFail")
    save(api, other, "pm_card_visa")

    mine = api.get("/v1/payments/methods?limit=1", token=token_for(owner)).json()
    rest = api.get(f"/v1/payments/methods?cursor={mine['next_cursor']}", token=token_for(owner)).json()

    assert [m["last4"] for m in mine["items"] + rest["items"]] == ["4242", "0341"]
    assert rest["next_cursor"] is None


def test_walkers_may_not_save_cards(api: Api, state: Dependencies) -> None:
    walker = insert_user(state.database_url, "walker")

    assert_problem(save(api, walker, "pm_card_visa"), 403, "forbidden")


def test_a_retry_with_the_same_key_and_body_replays_the_first_answer(
    api: Api, owner: SeededUser, state: Dependencies
) -> None:
    first = save(api, owner, "pm_card_visa", key="save-card-1")
    again = save(api, owner, "pm_card_visa", key="save-card-1")

    assert first.status == again.status == 201
    assert again.json() == first.json()
    assert again.headers.get("idempotent-replayed") == "true"
    with psycopg.connect(state.database_url) as conn:
        assert conn.execute("SELECT count(*) FROM payment_methods").fetchone() == (1,)


def test_the_same_key_with_another_body_is_409(api: Api, owner: SeededUser) -> None:
    save(api, owner, "pm_card_visa", key="save-card-2")

    assert_problem(save(api, owner, "pm_card_chargeCustomerFail", key="save-card-2"), 409, "idempotency_conflict")


def test_a_key_over_255_characters_is_400(api: Api, owner: SeededUser) -> None:
    assert_problem(save(api, owner, "pm_card_visa", key="k" * 256), 400, "bad_request")


def test_of_twenty_concurrent_requests_with_one_key_exactly_one_runs(owner: SeededUser) -> None:
    fingerprint = idempotency.request_hash("POST", "/v1/payments/methods", '{"gateway_token": "pm_card_visa"}')
    barrier = threading.Barrier(20)
    claims: list[object] = []
    refusals: list[Exception] = []

    def attempt() -> None:
        barrier.wait()
        try:
            claims.append(idempotency.begin(owner.id, "create_payment_method", "k-20", fingerprint, STALE))
        except IdempotencyConflict as exc:
            refusals.append(exc)

    threads = [threading.Thread(target=attempt) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(claims) == 1 and isinstance(claims[0], idempotency.Claim)
    assert len(refusals) == 19


def test_a_failed_first_attempt_lets_the_retry_run(owner: SeededUser) -> None:
    fingerprint = idempotency.request_hash("POST", "/x", "{}")
    claim = idempotency.begin(owner.id, "create_payment_method", "k-5xx", fingerprint, STALE)
    assert isinstance(claim, idempotency.Claim)
    idempotency.finish(claim, 503, {"statusCode": 503})

    assert isinstance(
        idempotency.begin(owner.id, "create_payment_method", "k-5xx", fingerprint, STALE), idempotency.Claim
    )


STALE = __import__("datetime").timedelta(seconds=60)
