"""A protected endpoint behind the token authorizer: GET /v1/auth/me."""

from __future__ import annotations

from tests.conftest import SeededUser
from tests.integration.conftest import Api, token_for


def test_me_answers_the_calling_user(api: Api, owner: SeededUser) -> None:
    answer = api.get("/v1/auth/me", token=token_for(owner))

    assert answer.status == 200
    body = answer.json()
    assert body["id"] == owner.id
    assert body["email"] == owner.email
    assert body["role"] == "owner"
    assert body["mfa_enabled"] is False
    assert "password_hash" not in body


def test_me_without_a_token_is_401_problem(api: Api) -> None:
    answer = api.get("/v1/auth/me")

    assert answer.status == 401
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "unauthorized"
    assert answer.json()["request_id"] == answer.headers["x-request-id"]


def test_me_with_a_forged_token_is_401(api: Api, owner: SeededUser) -> None:
    token = token_for(owner)
    header, payload, signature = token.split(".")
    forged = ".".join([header, payload, signature[:-4] + ("AAAA" if signature[-4:] != "AAAA" else "BBBB")])

    answer = api.get("/v1/auth/me", token=forged)

    assert answer.status == 401


def test_me_of_a_deleted_user_is_404(api: Api, owner: SeededUser, state) -> None:
    import psycopg

    token = token_for(owner)
    with psycopg.connect(state.database_url, autocommit=True) as conn:
        conn.execute("DELETE FROM users WHERE id = %s", (owner.id,))

    answer = api.get("/v1/auth/me", token=token)

    assert answer.status == 404
    assert answer.json()["code"] == "not_found"


def test_jwks_publishes_the_signing_key_and_the_previous_one_after_rotation(api: Api, owner: SeededUser) -> None:
    from dogwalk.auth import signing_keys

    old_token = token_for(owner)
    first = api.get("/.well-known/jwks.json").json()["keys"]
    new_kid = signing_keys.rotate()

    keys = api.get("/.well-known/jwks.json").json()["keys"]

    assert [key["kid"] for key in keys] == [new_kid, first[0]["kid"]]
    assert all(key["kty"] == "EC" and key["alg"] == "ES256" and "d" not in key for key in keys)
    assert api.get("/v1/auth/me", token=old_token).status == 200
    assert api.get("/v1/auth/me", token=token_for(owner)).status == 200


def test_tokens_never_reach_the_logs(api: Api, owner: SeededUser, capsys) -> None:
    token = token_for(owner)

    api.get("/v1/auth/me", token=token)
    api.get("/v1/auth/me", token=token[:-6] + "AAAAAA")

    written = capsys.readouterr()
    signature = token.rsplit(".", 1)[1]
    assert signature not in written.out + written.err
