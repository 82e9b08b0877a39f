"""The local platform's own routes, served by `local.api_gateway` beside the API and never deployed
(no registry entry, no CDK resource, not in the OpenAPI document):

- `GET /_local/emails?to=<address>` → `{items: [{to, subject, text, html, sent_at}]}`, newest first:
  what the email channel sent (`dogwalk.notifications.local_mailbox`);
- `POST /_local/oidc/{provider}/id-token {sub, email, email_verified, nonce?, name?}` → `{id_token}`,
  and `GET /_local/oidc/{provider}/jwks`: the stand-in Apple and Google (`local.identity_providers`).
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any
from urllib.parse import parse_qs

from dogwalk.edge.api import PROBLEM_JSON, problem_body

PREFIX = "/_local/"
OIDC = "/_local/oidc"
_OIDC_ROUTE = re.compile(r"^/_local/oidc/(?P<provider>apple|google)/(?P<what>id-token|jwks)$")
JSON = "application/json"


def _problem(status: int, code: str, detail: str) -> tuple[int, str, dict[str, Any]]:
    return status, PROBLEM_JSON, problem_body(status, code, detail, str(uuid.uuid4()))


def answer(method: str, path: str, query: str, body: bytes) -> tuple[int, str, dict[str, Any]]:
    """(status, content type, JSON body) of a `/_local/...` request."""
    if path == "/_local/emails":
        if method != "GET":
            return _problem(405, "method_not_allowed", "Use GET.")
        from dogwalk.notifications import local_mailbox

        to = next(iter(parse_qs(query).get("to", [])), None)
        return 200, JSON, {"items": local_mailbox.read(to)}
    route = _OIDC_ROUTE.match(path)
    if route is None:
        return _problem(404, "not_found", "No such local route.")
    from local import identity_providers

    provider = route["provider"]
    if route["what"] == "jwks":
        return (
            (200, JSON, identity_providers.jwks(provider))
            if method == "GET"
            else _problem(405, "method_not_allowed", "Use GET.")
        )
    if method != "POST":
        return _problem(405, "method_not_allowed", "Use POST.")
    try:
        claims = json.loads(body or b"{}")
        if not isinstance(claims, dict) or not claims.get("sub") or "@" not in str(claims.get("email", "")):
            raise ValueError("sub and email are required")
        return 200, JSON, {"id_token": identity_providers.id_token(provider, claims)}
    except ValueError as exc:
        return _problem(422, "validation_error", f"Send {{sub, email, email_verified, nonce?}}: {exc}.")
    except identity_providers.NotServed as exc:
        return _problem(409, "invalid_state", str(exc))
