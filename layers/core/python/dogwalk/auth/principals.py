"""Who a raw bearer token speaks for, for the three places that meet one before any route does:
the REST API's token authorizer, the live view's `$connect` and the MQTT device authorizer.

`verified` is the REST authorizer's check (API Gateway caches its answer per token, so the
suspension is checked on each request by the HTTP edge instead); `active` adds the suspension
check for the connections that outlive a request (a WebSocket, an MQTT session).
"""

from __future__ import annotations

from typing import Any

from dogwalk.auth.tokens import Claims, verify_access_token
from dogwalk.errors import Unauthorized

SUSPENDED = "account_suspended"


def verified(token: str | None) -> Claims:
    """The claims of a valid access token; Unauthorized for a missing, malformed or expired one."""
    if not token:
        raise Unauthorized("An access token is required.")
    return verify_access_token(token)


def active(token: str | None) -> Claims:
    """As `verified`, and its user not suspended (Unauthorized with code `account_suspended`)."""
    # imported here: the REST authorizer, which never asks, needs neither Redis nor PostgreSQL
    from dogwalk.auth import suspensions

    claims = verified(token)
    if suspensions.is_suspended(claims.user_id):
        raise Unauthorized("This account is suspended.", code=SUSPENDED)
    return claims


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` value (any case of the scheme)."""
    scheme, _, token = (authorization or "").partition(" ")
    return token if scheme.lower() == "bearer" and token else None


def invoke_policy(claims: Claims, method_arn: str) -> dict[str, Any]:
    """The REST authorizer's answer: allow every method of the caller's API and stage (the answer
    is cached per token, not per method) and hand `sub` and `role` to the handlers."""
    # arn:aws:execute-api:<region>:<account>:<api id>/<stage>/<method>/<path>
    arn, _, resource = method_arn.partition("/")
    stage = resource.split("/", 1)[0]
    return {
        "principalId": claims.user_id,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": f"{arn}/{stage}/*"}],
        },
        "context": {"sub": claims.user_id, "role": claims.role},
    }
