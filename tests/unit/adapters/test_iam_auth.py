"""In the cloud the functions authenticate to the RDS Proxy and to ElastiCache with IAM auth tokens
(SigV4-presigned URLs that botocore signs locally); locally the URLs are used as they are."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from dogwalk.adapters import cache, db
from dogwalk.config import settings

PROXY = "dogwalk-dev.proxy-abc123.us-east-1.rds.amazonaws.com"
CACHE = "dogwalk-dev-abc123.serverless.use1.cache.amazonaws.com"


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    settings.cache_clear()
    db._tokens.clear()
    yield
    settings.cache_clear()
    db._tokens.clear()


def test_database_url_is_used_as_it_is_without_iam_auth(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://dogwalk:secret@127.0.0.1:54329/dogwalk")
    monkeypatch.delenv("DOGWALK_DATABASE_IAM_AUTH_REGION", raising=False)

    assert db.connect_arguments() == {"conninfo": "postgresql://dogwalk:secret@127.0.0.1:54329/dogwalk"}


def test_database_password_is_an_iam_auth_token_for_the_urls_user_host_and_port(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"postgresql://dogwalk@{PROXY}:5432/dogwalk?sslmode=verify-full")
    monkeypatch.setenv("DOGWALK_DATABASE_IAM_AUTH_REGION", "us-east-1")

    arguments = db.connect_arguments()

    assert arguments["conninfo"] == f"postgresql://dogwalk@{PROXY}:5432/dogwalk?sslmode=verify-full"
    assert arguments["sslrootcert"] == str(db.RDS_PROXY_TRUST)  # the layer's authorities, not ~/.postgresql
    token = urlsplit(f"https://{arguments['password']}")
    query = parse_qs(token.query)
    assert (token.hostname, token.port) == (PROXY, 5432)
    assert query["Action"] == ["connect"] and query["DBUser"] == ["dogwalk"]
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-Credential"][0].split("/")[2:4] == ["us-east-1", "rds-db"]
    assert query["X-Amz-Expires"] == ["900"]
    # reused for the next connection (younger than ten minutes), not signed again
    assert db.connect_arguments()["password"] == arguments["password"]


def test_a_database_url_naming_its_own_authorities_keeps_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"postgresql://dogwalk@{PROXY}/dogwalk?sslmode=verify-full&sslrootcert=/ca.pem")
    monkeypatch.setenv("DOGWALK_DATABASE_IAM_AUTH_REGION", "us-east-1")

    assert "sslrootcert" not in db.connect_arguments()  # libpq reads it from the URL


def test_database_token_is_signed_again_after_ten_minutes(monkeypatch: pytest.MonkeyPatch) -> None:
    signed: list[str] = []

    class Rds:
        def generate_db_auth_token(self, **arguments: object) -> str:
            signed.append(f"token-{len(signed)}")
            return signed[-1]

    monkeypatch.setattr("dogwalk.adapters.aws.regional_client", lambda service, region: Rds())
    monkeypatch.setenv("DATABASE_URL", f"postgresql://dogwalk@{PROXY}/dogwalk")
    monkeypatch.setenv("DOGWALK_DATABASE_IAM_AUTH_REGION", "us-east-1")
    assert [db.connect_arguments()["password"], db.connect_arguments()["password"]] == ["token-0", "token-0"]
    key = next(iter(db._tokens))
    db._tokens[key] = (db._tokens[key][0] - db.IAM_TOKEN_REUSE_S, db._tokens[key][1])

    assert db.connect_arguments()["password"] == "token-1"


def test_database_iam_auth_needs_a_user(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"postgresql://{PROXY}/dogwalk")
    monkeypatch.setenv("DOGWALK_DATABASE_IAM_AUTH_REGION", "us-east-1")

    with pytest.raises(ValueError, match="user"):
        db.connect_arguments()


def test_redis_url_is_used_as_it_is_without_iam_auth(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:63799/0")
    monkeypatch.delenv("DOGWALK_REDIS_IAM_AUTH_CACHE", raising=False)

    assert cache.connection_arguments() == {"url": "redis://127.0.0.1:63799/0"}


def test_redis_user_authenticates_with_an_elasticache_iam_auth_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", f"rediss://dogwalk-dev-app@{CACHE}:6379/0")
    monkeypatch.setenv("DOGWALK_REDIS_IAM_AUTH_CACHE", "dogwalk-dev")

    arguments = cache.connection_arguments()

    # the user leaves the URL: redis-py takes user and password from the credential provider only
    assert arguments["url"] == f"rediss://{CACHE}:6379/0"
    user, token = arguments["credential_provider"].get_credentials()
    assert user == "dogwalk-dev-app"
    signed = urlsplit(f"https://{token}")
    query = parse_qs(signed.query)
    assert signed.hostname == "dogwalk-dev"
    assert query["Action"] == ["connect"] and query["User"] == ["dogwalk-dev-app"]
    assert query["ResourceType"] == ["ServerlessCache"]
    assert query["X-Amz-Credential"][0].split("/")[2:4] == ["us-east-1", "elasticache"]
    assert query["X-Amz-Expires"] == ["900"]
    assert arguments["credential_provider"].get_credentials()[1] == token
