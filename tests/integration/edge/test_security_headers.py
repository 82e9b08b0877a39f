"""Every answer carries HSTS and `nosniff`; every answer that could carry a token or personal data
is `Cache-Control: no-store` (all of them, but those whose handler chose a public caching policy);
the local gateway's own refusals carry them as API Gateway's gateway responses do."""

from __future__ import annotations

import pytest

from tests.integration.auth.conftest import register
from tests.integration.conftest import Answer, Api

HSTS = "max-age=63072000; includeSubDomains"


def _secured(answer: Answer) -> None:
    assert answer.headers["strict-transport-security"] == HSTS, answer.headers
    assert answer.headers["x-content-type-options"] == "nosniff", answer.headers


def test_token_answers_are_not_stored(api: Api) -> None:
    credentials = {"email": "h@example.com", "password": "correct horse battery staple"}
    pair = api.post("/v1/auth/register", json_body={**credentials, "role": "owner", "name": "H"})
    login = api.post("/v1/auth/login", json_body=credentials)
    renewed = api.post("/v1/auth/refresh", json_body={"refresh_token": login.json()["refresh_token"]})

    for answer in (pair, login, renewed):
        assert answer.status in (200, 201), answer.body
        _secured(answer)
        assert answer.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/v1/auth/me", 200),
        ("GET", "/v1/dogs", 200),
        ("GET", "/v1/notifications", 200),
        ("GET", "/v1/bookings/not-a-uuid", 404),
        ("POST", "/v1/dogs", 422),
    ],
)
def test_authenticated_answers_are_not_stored(api: Api, method: str, path: str, status: int) -> None:
    token = register(api)["access_token"]

    answer = api.request(method, path, token=token, json_body={} if method == "POST" else None)

    assert answer.status == status, answer.body
    _secured(answer)
    assert answer.headers["cache-control"] == "no-store"


def test_the_gateways_own_refusals_carry_them_too(api: Api) -> None:
    for answer in (api.get("/v1/auth/me"), api.get("/v1/no/such/path"), api.request("PATCH", "/v1/auth/me")):
        assert answer.status in (401, 404, 405), answer.body
        _secured(answer)
        assert answer.headers["cache-control"] == "no-store"


def test_public_answers_are_secured_and_a_chosen_caching_policy_stays(api: Api) -> None:
    health, jwks = api.get("/v1/health"), api.get("/.well-known/jwks.json")

    for answer in (health, jwks):
        _secured(answer)
    assert health.headers["cache-control"] == "no-store"
    assert jwks.headers["cache-control"] == "public, max-age=300"
