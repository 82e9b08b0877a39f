"""The synthetic canary's script (infra/operations/synthetics.py puts it inline; standard library only).

Three calls an anonymous client makes, each a failed run when its answer is not the contract's:
health 200 `{"status": "ok"}`, the JWKS 200 with at least one key, and a read behind the token
authorizer without a token 401 problem+json. A run fails by raising.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

TIMEOUT_S = 10
USER_AGENT = "dogwalk-synthetics-canary"


def fetch(url: str) -> tuple[int, str, Any]:
    """Status, content type and JSON body of a GET (an error status is an answer too)."""
    if not url.startswith(("https://", "http://")):
        raise ValueError(f"not an HTTP URL: {url}")
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (the scheme is checked above)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:  # noqa: S310  # nosec B310
            status, content_type, raw = response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as error:
        status, content_type, raw = error.code, error.headers.get("Content-Type", ""), error.read()
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        body = None
    return status, content_type, body


def check_health(base_url: str) -> None:
    status, _, body = fetch(f"{base_url}/v1/health")
    if status != 200 or not isinstance(body, dict) or body.get("status") != "ok":
        raise AssertionError(f"GET /v1/health answered {status}: {body}")


def check_jwks(base_url: str) -> None:
    status, _, body = fetch(f"{base_url}/.well-known/jwks.json")
    keys = body.get("keys") if isinstance(body, dict) else None
    if status != 200 or not isinstance(keys, list) or not keys:
        raise AssertionError(f"GET /.well-known/jwks.json answered {status} with {len(keys or [])} keys")


def check_anonymous_read_refused(base_url: str) -> None:
    status, content_type, body = fetch(f"{base_url}/v1/walkers/search?lat=40.7&lng=-74.0")
    if status != 401 or not content_type.startswith("application/problem+json") or not isinstance(body, dict):
        raise AssertionError(f"GET /v1/walkers/search without a token answered {status} ({content_type})")


CHECKS: tuple[tuple[str, Callable[[str], None]], ...] = (
    ("health", check_health),
    ("jwks", check_jwks),
    ("anonymous-read-refused", check_anonymous_read_refused),
)


def run(base_url: str) -> list[str]:
    """Every check, each on its own; raises naming every failed one."""
    base_url = base_url.rstrip("/")
    failures = []
    for name, check in CHECKS:
        try:
            check(base_url)
        except Exception as error:  # each check's failure is reported, the others still run
            failures.append(f"{name}: {error}")
    if failures:
        raise AssertionError("; ".join(failures))
    return [name for name, _ in CHECKS]


def handler(event: object, context: object) -> list[str]:
    return run(os.environ["DOGWALK_BASE_URL"])
