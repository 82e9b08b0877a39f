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
