"""Sign in with Apple and Google (`POST /v1/auth/oidc/{provider}`): ID tokens signed with our own
RSA keys, published by a JWKS server on 127.0.0.1 that plays the providers' key endpoints; and the
local platform's stand-in providers, trusted only while the stage is local."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pyotp
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import RSAAlgorithm

from dogwalk.auth import oidc
from tests.conftest import Dependencies
from tests.integration.auth.conftest import RESET_SUBJECT, AuthApi, Mail, assert_problem, login, query, register
from tests.integration.conftest import Answer

APPLE_ISSUER, APPLE_CLIENT = "https://appleid.apple.com", "example.dogwalk.app"
GOOGLE_ISSUER, GOOGLE_CLIENT = "https://accounts.google.com", "dogwalk-test.apps.googleusercontent.com"
KEYS = {kid: rsa.generate_private_key(public_exponent=65537, key_size=2048) for kid in ("key-1", "key-2", "stranger")}


class Providers:
    """The providers' JWKS endpoints (a real HTTP server) and the tokens they would sign."""

    def __init__(self) -> None:
        self.published = {"apple": ["key-1"], "google": ["key-1"]}
        self.reads = 0
        providers = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                provider = self.path.strip("/").split("/")[0]
                providers.reads += 1
                keys = [
                    {
                        **json.loads(RSAAlgorithm.to_jwk(KEYS[kid].public_key())),
                        "kid": kid,
                        "alg": "RS256",
                        "use": "sig",
                    }
                    for kid in providers.published.get(provider, [])
                ]
                body = json.dumps({"keys": keys}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, provider: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/{provider}/jwks"

    def token(
        self, provider: str = "google", *, kid: str = "key-1", alg: str = "RS256", key: Any = None, **claims: Any
    ) -> str:
        now = int(time.time())
        issuer, client = (APPLE_ISSUER, APPLE_CLIENT) if provider == "apple" else (GOOGLE_ISSUER, GOOGLE_CLIENT)
        payload = {"iss": issuer, "aud": client, "sub": "subject-1", "iat": now, "exp": now + 600,
                   "email": "new@example.com", "email_verified": True, **claims}  # fmt: skip
        payload = {name: value for name, value in payload.items() if value is not None}
        return jwt.encode(payload, key if key is not None else KEYS[kid], algorithm=alg, headers={"kid": kid})


@pytest.fixture
def providers(monkeypatch: pytest.MonkeyPatch) -> Iterator[Providers]:
    from dogwalk.config import settings

    played = Providers()
    for name, value in {
        "DOGWALK_OIDC_APPLE_ISSUERS": APPLE_ISSUER,
        "DOGWALK_OIDC_APPLE_JWKS_URL": played.url("apple"),
        "DOGWALK_OIDC_APPLE_CLIENT_IDS": APPLE_CLIENT,
        "DOGWALK_OIDC_GOOGLE_ISSUERS": f"{GOOGLE_ISSUER},accounts.google.com",
        "DOGWALK_OIDC_GOOGLE_JWKS_URL": played.url("google"),
        "DOGWALK_OIDC_GOOGLE_CLIENT_IDS": f"another-client,{GOOGLE_CLIENT}",
    }.items():
        monkeypatch.setenv(name, value)
    settings.cache_clear()
    oidc.forget_keys()
    yield played
    played.server.shutdown()
    oidc.forget_keys()
    settings.cache_clear()


def sign_in(api: AuthApi, provider: str, id_token: str, **body: Any) -> Answer:
    return api.post(f"/v1/auth/oidc/{provider}", json_body={"id_token": id_token, **body})


def test_a_new_identity_makes_an_account_of_the_requested_role(api: AuthApi, providers: Providers) -> None:
    nonce = uuid.uuid4().hex
    answer = sign_in(api, "google", providers.token(nonce=nonce, name="Gia Google"), nonce=nonce, role="walker")

    assert answer.status == 201, answer.body
    user = answer.json()["user"]
    assert (user["role"], user["email"], user["name"], user["email_verified"]) == (
        "walker", "new@example.com", "Gia Google", True,
    )  # fmt: skip
    assert api.get("/v1/auth/me", token=answer.json()["access_token"]).json()["id"] == user["id"]
    assert answer.headers["cache-control"] == "no-store"

    again = sign_in(api, "google", providers.token(nonce="second"), nonce="second")
    assert again.status == 200, again.body
    assert again.json()["user"]["id"] == user["id"]


def test_apple_hashes_the_nonce_and_names_the_user_only_the_first_time(api: AuthApi, providers: Providers) -> None:
    relay = "x7k2m9@privaterelay.appleid.com"
    nonce = uuid.uuid4().hex
    hashed = hashlib.sha256(nonce.encode()).hexdigest()
    first = sign_in(api, "apple", providers.token("apple", email=relay, email_verified="true", nonce=hashed),
                    nonce=nonce, name="Sam Apple")  # fmt: skip
    assert first.status == 201, first.body

    later = sign_in(api, "apple", providers.token("apple", email=relay, email_verified="true", nonce="n2"), nonce="n2")

    assert later.status == 200, later.body
    assert later.json()["user"]["name"] == "Sam Apple"
    assert later.json()["user"]["email"] == relay  # the relay address is the account's, a real one


@pytest.mark.parametrize(
    ("claims", "sent", "why"),
    [
        ({"nonce": "expected"}, "other", "a nonce that does not match"),
        ({"nonce": "expected"}, None, "a token with a nonce, none sent"),
        ({}, "sent", "a nonce sent, the token has none"),
    ],
)
def test_a_nonce_that_does_not_match_is_401(
    api: AuthApi, providers: Providers, claims: dict[str, Any], sent: str | None, why: str
) -> None:
    body = {"nonce": sent} if sent else {}
    assert_problem(sign_in(api, "google", providers.token(**claims), **body), 401, "invalid_token")


def test_a_replayed_nonce_is_401(api: AuthApi, providers: Providers) -> None:
    token = providers.token(nonce="once")
    assert sign_in(api, "google", token, nonce="once").status == 201

    assert_problem(sign_in(api, "google", token, nonce="once"), 401, "invalid_token")
    # another token carrying the same nonce is a replay too
    assert_problem(
        sign_in(api, "google", providers.token(nonce="once", iat=int(time.time()) - 5), nonce="once"),
        401,
        "invalid_token",
    )


def test_a_token_without_nonce_is_single_use(api: AuthApi, providers: Providers) -> None:
    token = providers.token()
    assert sign_in(api, "google", token).status == 201

    assert_problem(sign_in(api, "google", token), 401, "invalid_token")


def _hs256_with_the_public_key(providers: Providers) -> str:
    """The classic confusion: an HMAC whose secret is the provider's public key, made by hand (PyJWT
    refuses to make one)."""
    public_pem = (
        KEYS["key-1"]
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    _, payload, _ = providers.token().split(".")
    header = _b64({"alg": "HS256", "typ": "JWT", "kid": "key-1"})
    mac = hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


def _b64(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize(
    ("make", "why"),
    [
        (lambda p: p.token(aud="someone-elses-app"), "wrong audience"),
        (lambda p: p.token(iss="https://evil.example"), "wrong issuer"),
        (lambda p: p.token("apple", iss=GOOGLE_ISSUER), "another provider's issuer"),
        (lambda p: p.token(exp=int(time.time()) - 120), "expired"),
        (lambda p: p.token(iat=int(time.time()) + 3600, exp=int(time.time()) + 7200), "issued in the future"),
        (lambda p: p.token(kid="stranger"), "unknown kid"),
        (lambda p: p.token(alg="RS512"), "another algorithm"),
        (_hs256_with_the_public_key, "HS256 made with the public key"),
        (
            lambda p: jwt.encode(
                {
                    "iss": GOOGLE_ISSUER,
                    "aud": GOOGLE_CLIENT,
                    "sub": "s",
                    "exp": int(time.time()) + 60,
                    "iat": int(time.time()),
                },
                None,
                algorithm="none",
            ),
            "alg none",
        ),
        (lambda p: p.token(alg="ES256", key=ec.generate_private_key(ec.SECP256R1())), "the local issuer's alg"),
        (lambda p: p.token(sub=None), "no subject"),
        (lambda p: p.token()[:-6] + "AAAAAA", "a tampered signature"),
        (lambda p: "not.a.token", "malformed"),
    ],
)
def test_a_bad_id_token_is_401_invalid_token(
    api: AuthApi, providers: Providers, make: Callable[[Providers], str], why: str, state: Dependencies
) -> None:
    assert_problem(sign_in(api, "google", make(providers)), 401, "invalid_token")

    assert query(state.database_url, "SELECT count(*) AS n FROM users") == [{"n": 0}]


def test_a_key_rotated_in_is_read_again_but_not_at_every_unknown_kid(api: AuthApi, providers: Providers) -> None:
    assert sign_in(api, "google", providers.token(nonce="a"), nonce="a").status == 201
    reads = providers.reads
    providers.published["google"] = ["key-1", "key-2"]

    # just read: an unknown kid does not make the container read the keys again at once
    assert_problem(sign_in(api, "google", providers.token(kid="key-2", nonce="b"), nonce="b"), 401, "invalid_token")
    assert providers.reads == reads
    url = providers.url("google")
    read_at, keys = oidc._keys[url]
    oidc._keys[url] = (read_at - oidc.REFRESH_AFTER_S - 1, keys)  # the container read them 11 s ago

    assert sign_in(api, "google", providers.token(kid="key-2", nonce="c"), nonce="c").status == 200
    assert providers.reads == reads + 1


def test_an_existing_account_is_linked_only_when_the_email_is_verified(
    api: AuthApi, providers: Providers, state: Dependencies
) -> None:
    existing = register(api, "new@example.com")["user"]

    unverified = sign_in(api, "google", providers.token(email_verified=False, nonce="u"), nonce="u")
    assert_problem(unverified, 409, "email_not_verified")
    assert query(state.database_url, "SELECT count(*) AS n FROM oidc_identities") == [{"n": 0}]

    verified = sign_in(api, "google", providers.token(nonce="v"), nonce="v")
    assert verified.status == 200, verified.body
    assert verified.json()["user"]["id"] == existing["id"]
    assert verified.json()["user"]["email_verified"] is True
    # and Apple too: several identities per user
    apple = sign_in(api, "apple", providers.token("apple", sub="apple-7", email_verified="true", nonce="w"), nonce="w")
    assert apple.json()["user"]["id"] == existing["id"]
    assert query(state.database_url, "SELECT provider FROM oidc_identities ORDER BY provider") == [
        {"provider": "apple"}, {"provider": "google"},
    ]  # fmt: skip
    assert login(api, "new@example.com").status == 200  # the password still works


def test_totp_on_the_account_is_asked_for_here_too(api: AuthApi, providers: Providers) -> None:
    pair = register(api, "new@example.com")
    secret = api.post("/v1/auth/mfa/totp/setup", token=pair["access_token"]).json()["secret"]
    code = pyotp.TOTP(secret)
    assert (
        api.post("/v1/auth/mfa/totp/enable", json_body={"code": code.now()}, token=pair["access_token"]).status == 204
    )

    assert_problem(sign_in(api, "google", providers.token(nonce="m1"), nonce="m1"), 401, "mfa_required")
    # the sign-in was not spent by the refusal: the same token with the code goes through
    later = code.at(time.time() + 30)
    assert sign_in(api, "google", providers.token(nonce="m1"), nonce="m1", totp_code=later).status == 200


def test_admin_is_never_a_role_one_signs_up_for(api: AuthApi, providers: Providers) -> None:
    assert_problem(sign_in(api, "google", providers.token(), role="admin"), 422, "validation_error")


def test_an_unknown_provider_is_404(api: AuthApi, providers: Providers) -> None:
    assert_problem(sign_in(api, "facebook", providers.token()), 404, "not_found")


def test_a_provider_without_client_id_is_refused(
    api: AuthApi, providers: Providers, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dogwalk.config import settings

    monkeypatch.setenv("DOGWALK_OIDC_GOOGLE_CLIENT_IDS", "")
    settings.cache_clear()

    assert_problem(sign_in(api, "google", providers.token()), 401, "invalid_token")


def test_without_redis_sign_in_fails_closed(
    api: AuthApi, providers: Providers, redis_goes_down: Callable[[], None]
) -> None:
    redis_goes_down()

    assert_problem(sign_in(api, "google", providers.token(nonce="r"), nonce="r"), 503, "service_unavailable")


def test_an_account_made_with_google_may_set_a_password_through_reset(
    api: AuthApi, providers: Providers, mail: Mail
) -> None:
    assert sign_in(api, "google", providers.token()).status == 201
    assert_problem(login(api, "new@example.com", "any password at all"), 401, "invalid_credentials")

    api.post("/v1/auth/password/forgot", json_body={"email": "new@example.com"})
    mail.deliver()
    token = mail.token("new@example.com", RESET_SUBJECT)
    assert (
        api.post("/v1/auth/password/reset", json_body={"token": token, "new_password": "my own passphrase 2026"}).status
        == 204
    )

    assert login(api, "new@example.com", "my own passphrase 2026").status == 200


# --- the local platform's stand-in providers ------------------------------------------------------


@pytest.fixture
def served_gateway(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The local gateway over real HTTP, naming itself the local issuer, as `make run` serves it."""
    from dogwalk.config import settings
    from local.api_gateway import Gateway, serve
    from local.services import free_port

    port = free_port()
    monkeypatch.setenv("DOGWALK_OIDC_LOCAL_ISSUER", f"http://127.0.0.1:{port}/_local/oidc")
    server = serve(Gateway(), port)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    oidc.forget_keys()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    server.server_close()
    oidc.forget_keys()
    settings.cache_clear()


def _local_token(base: str, provider: str, **claims: Any) -> str:
    import urllib.request

    request = urllib.request.Request(  # noqa: S310 - loopback only
        f"{base}/_local/oidc/{provider}/id-token",
        data=json.dumps(claims).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310 - loopback only
        return str(json.loads(answer.read())["id_token"])


def test_the_local_providers_sign_tokens_the_local_platform_trusts(api: AuthApi, served_gateway: str) -> None:
    nonce = uuid.uuid4().hex
    token = _local_token(served_gateway, "apple", sub="local-1", email="me@privaterelay.appleid.com",
                         email_verified=True, nonce=nonce)  # fmt: skip
    assert jwt.decode(token, options={"verify_signature": False})["nonce"] == hashlib.sha256(nonce.encode()).hexdigest()

    answer = sign_in(api, "apple", token, nonce=nonce, name="Local Apple")

    assert answer.status == 201, answer.body
    assert answer.json()["user"]["email"] == "me@privaterelay.appleid.com"
    google = _local_token(served_gateway, "google", sub="local-2", email="g@example.com", email_verified=False)
    assert sign_in(api, "google", google).json()["user"]["email_verified"] is False


def test_the_local_providers_are_never_trusted_with_another_stage(
    api: AuthApi, served_gateway: str, monkeypatch: pytest.MonkeyPatch, state: Dependencies
) -> None:
    from dogwalk.config import settings

    token = _local_token(served_gateway, "google", sub="local-3", email="g@example.com", email_verified=True)
    monkeypatch.setenv("DOGWALK_STAGE", "prod")
    settings.cache_clear()

    assert oidc.issuers_of("google") == []
    assert_problem(sign_in(api, "google", token), 401, "invalid_token")
    assert query(state.database_url, "SELECT count(*) AS n FROM users") == [{"n": 0}]
