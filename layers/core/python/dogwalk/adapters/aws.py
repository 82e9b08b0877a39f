"""boto3 clients, created on first use and kept for warm invocations.

Imported only by functions that call AWS, so that the others do not pay boto3's import
cost at cold start. `AWS_ENDPOINT_URL` (set by the local platform) points them at moto.
"""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def client(service: str) -> Any:
    import boto3

    return boto3.session.Session().client(service)


@cache
def regional_client(service: str, region: str) -> Any:
    """A client of `service` in `region` (RDS and ElastiCache auth tokens are signed for one)."""
    import boto3

    return boto3.session.Session().client(service, region_name=region)


@cache
def endpoint_client(service: str, endpoint_url: str) -> Any:
    """A client of an API at its own endpoint (the WebSocket API's management endpoint). Short
    timeouts and one retry: its callers push best effort and must not hold up their real work
    for botocore's default minute-long waits."""
    import boto3
    from botocore.config import Config

    patience = Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 2})
    return boto3.session.Session().client(service, endpoint_url=endpoint_url, config=patience)


@cache
def s3() -> Any:
    """The S3 client that signs with SigV4, presigned POSTs and URLs too (botocore would sign those
    with SigV2, which S3 refuses for buckets made since 2020)."""
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client("s3", config=Config(signature_version="s3v4"))
