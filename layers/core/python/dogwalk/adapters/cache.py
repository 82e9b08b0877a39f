"""Redis through redis-py: one client per container, made lazily, with short timeouts so a
cache outage answers quickly instead of hanging the request."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import redis

from dogwalk.config import settings

_client: redis.Redis | None = None

# ElastiCache accepts an IAM auth token for 15 minutes after it is signed; new connections reuse one for 10
IAM_TOKEN_REUSE_S = 600


class IamAuthCredentials(redis.CredentialProvider):
    """ElastiCache IAM auth: the user id and a SigV4-presigned `connect` request as its password,
    signed locally with the function's credentials and made again for new connections after 10 minutes."""

    def __init__(self, user: str, cache_name: str, region: str) -> None:
        self.user, self.cache_name, self.region = user, cache_name, region
        self._signed: tuple[float, str] | None = None

    def token(self) -> str:
        now = time.monotonic()
        if self._signed is None or now - self._signed[0] >= IAM_TOKEN_REUSE_S:
            from botocore.auth import SigV4QueryAuth
            from botocore.awsrequest import AWSRequest

            from dogwalk.adapters import aws

            credentials = aws.session().get_credentials()
            if credentials is None:
                raise RuntimeError("no AWS credentials to sign the ElastiCache IAM auth token with")
            request = AWSRequest(
                method="GET",
                url=f"http://{self.cache_name}/",
                params={"Action": "connect", "User": self.user, "ResourceType": "ServerlessCache"},
            )
            SigV4QueryAuth(credentials.get_frozen_credentials(), "elasticache", self.region, expires=900).add_auth(
                request
            )
            self._signed = (now, str(request.url).removeprefix("http://"))
        return self._signed[1]

    def get_credentials(self) -> tuple[str, str]:
        return (self.user, self.token())


def connection_arguments() -> dict[str, Any]:
    """`redis.Redis.from_url` arguments for REDIS_URL: with `redis_iam_auth_cache` set (the cloud),
    the URL's user authenticates with IAM auth tokens; otherwise the URL as it is (local)."""
    current = settings()
    if not current.redis_iam_auth_cache:
        return {"url": current.redis_url}
    parts = urlsplit(current.redis_url)
    if not parts.username or not parts.hostname:
        raise ValueError("REDIS_URL needs a host and a user for IAM auth")
    from dogwalk.adapters import aws

    region = aws.session().region_name
    if not region:
        raise RuntimeError("no AWS region to sign the ElastiCache IAM auth token for")
    netloc = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
    return {
        "url": urlunsplit(parts._replace(netloc=netloc)),
        "credential_provider": IamAuthCredentials(parts.username, current.redis_iam_auth_cache, region),
    }


def client() -> redis.Redis:
    global _client
    if _client is None:
        timeout = settings().dependency_timeout_s
        _client = redis.Redis.from_url(
            **connection_arguments(),
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            health_check_interval=30,
            decode_responses=True,
        )
    return _client


def reset() -> None:
    global _client
    if _client is not None:
        _client.close()
    _client = None


def ping() -> None:
    client().ping()
