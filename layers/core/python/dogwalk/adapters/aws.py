"""boto3 clients, created on first use and kept for warm invocations.

Imported only by functions that call AWS, so that the others do not pay boto3's import
cost at cold start. `AWS_ENDPOINT_URL` (set by the local platform) points them at moto.

Every client comes from one session: botocore keeps what it reads from its data files (service
models, endpoint rules, partitions: 70-170 ms a client here) in its session, and `preload` reads
them before a SnapStart snapshot without making a client.
"""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def _botocore_session() -> Any:
    import botocore.session

    return botocore.session.get_session()


@cache
def session() -> Any:
    """The boto3 session of every client of this module (and of the ElastiCache auth tokens' credentials)."""
    import boto3

    return boto3.session.Session(botocore_session=_botocore_session())


def preload(*services: str) -> None:
    """Read what making these services' clients reads from botocore's data files, into the session:
    no client is made, no credential resolved, nothing sent (dogwalk.adapters.snapstart)."""
    core = _botocore_session()
    core.get_available_partitions()  # the endpoint resolver, from endpoints.json
    loader = core.get_component("data_loader")
    for name in ("sdk-default-configuration", "partitions"):
        loader.load_data(name)
    for service in services:
        for type_name in ("service-2", "endpoint-rule-set-1"):
            loader.load_service_model(service, type_name)


@cache
def client(service: str) -> Any:
    return session().client(service)


@cache
def regional_client(service: str, region: str) -> Any:
    """A client of `service` in `region` (RDS and ElastiCache auth tokens are signed for one)."""
    return session().client(service, region_name=region)


@cache
def endpoint_client(service: str, endpoint_url: str) -> Any:
    """A client of an API at its own endpoint (the WebSocket API's management endpoint). Short
    timeouts and one retry: its callers push best effort and must not hold up their real work
    for botocore's default minute-long waits."""
    from botocore.config import Config

    patience = Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 2})
    return session().client(service, endpoint_url=endpoint_url, config=patience)


@cache
def s3() -> Any:
    """The S3 client that signs with SigV4, presigned POSTs and URLs too (botocore would sign those
    with SigV2, which S3 refuses for buckets made since 2020)."""
    from botocore.config import Config

    return session().client("s3", config=Config(signature_version="s3v4"))


def reset() -> None:
    """Forget every client and the session (the environment they were made from has changed)."""
    for made in (client, regional_client, endpoint_client, s3, session, _botocore_session):
        made.cache_clear()
