"""The few errors the domain raises; `dogwalk.edge.api` maps each to RFC 9457 problem details."""

from __future__ import annotations

import uuid
from typing import Any


class DomainError(Exception):
    status: int = 400
    code: str = "bad_request"
    title: str = "Bad request"

    def __init__(self, detail: str = "", *, code: str | None = None, errors: list[dict[str, Any]] | None = None):
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        if code:
            self.code = code
        self.errors = errors


class BadRequest(DomainError):
    status, code, title = 400, "bad_request", "Bad request"


class Unauthorized(DomainError):
    status, code, title = 401, "unauthorized", "Authentication required"


class Forbidden(DomainError):
    status, code, title = 403, "forbidden", "Forbidden"


class Blocked(Forbidden):
    """A conversation one of its parties blocked: no more messages either way."""

    code, title = "blocked", "Blocked"


class NotFound(DomainError):
    status, code, title = 404, "not_found", "Not found"


class Conflict(DomainError):
    status, code, title = 409, "conflict", "Conflict"


class InvalidState(Conflict):
    code, title = "invalid_state", "Invalid state"


class PayloadTooLarge(DomainError):
    status, code, title = 413, "payload_too_large", "Payload too large"


class ValidationFailed(DomainError):
    status, code, title = 422, "validation_error", "Validation error"


class RateLimited(DomainError):
    status, code, title = 429, "rate_limited", "Too many requests"

    def __init__(self, detail: str = "", *, retry_after_s: int):
        super().__init__(detail)
        self.retry_after_s = retry_after_s


class Unavailable(DomainError):
    """A dependency (database, cache, provider) cannot be reached; retrying later may work."""

    status, code, title = 503, "service_unavailable", "Service unavailable"


class PaymentDeclined(DomainError):
    status, code, title = 402, "payment_declined", "Payment declined"


class IdempotencyConflict(Conflict):
    code, title = "idempotency_conflict", "Idempotency conflict"


def require_id(value: str, what: str) -> str:
    """`value` if it is a UUID; otherwise the same 404 as an id that exists but is not yours."""
    try:
        uuid.UUID(value)
    except ValueError:
        raise NotFound(f"No such {what}.") from None
    return value
