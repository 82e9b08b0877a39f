"""The HTTP adapter every endpoint shares: a Powertools REST resolver per function with the
route its service declares for it, RFC 9457 problem details for every error, role checks, the
body-size limit, and on every response `X-Request-Id` and the security headers: HSTS and
`nosniff` always, and `Cache-Control: no-store` unless the handler chose a caching policy itself
(tokens and personal data must never sit in a shared or browser cache; the few public, cacheable
answers, like the JWKS, say so).

A handler module reads:

    route = Route(__name__)

    @route.handle
    def get_health() -> HealthReport: ...

    lambda_handler = route.lambda_handler
"""

from __future__ import annotations

import base64
import importlib
import inspect
import json
import re
import typing
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, TypeVar

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from dogwalk import declarations
from dogwalk.adapters import snapstart
from dogwalk.adapters.observability import instrument, logger, metrics
from dogwalk.config import settings
from dogwalk.errors import DomainError, Forbidden, RateLimited, Unauthorized

PROBLEM_JSON = "application/problem+json"
# on every answer, the functions' and API Gateway's own (infra/api.py) alike
SECURITY_HEADERS = {
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
}
NO_STORE = {"Cache-Control": "no-store"}
Handler = TypeVar("Handler", bound=Callable[..., Any])


@dataclass(frozen=True)
class Principal:
    """Who calls: filled by the authorizer (cloud) or the local platform into the request context."""

    user_id: str
    role: str


def _json_response(model: type, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"model": model}}}


def _returned_model(func: Callable[..., Any] | None) -> type | None:
    """The model (pydantic, or a TypedDict where pydantic's import is not worth it) a route
    function returns, directly or as `Response[Model]`."""
    if func is None:
        return None
    returned = typing.get_type_hints(func).get("return")
    if typing.get_origin(returned) is Response:
        returned = typing.get_args(returned)[0]
    return returned if isinstance(returned, type) and returned not in (dict, list, str, type(None)) else None


def _problem_responses(route: declarations.Endpoint) -> dict[int, Any]:
    statuses = [400, 401, 403, 404, 409, 413, 415, 422, 429, 500]
    if route.uses & {declarations.DATABASE, declarations.CACHE}:
        statuses.append(503)
    return {
        status: {
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in sorted(statuses)
    }


def problem_body(status: int, code: str, detail: str, request_id: str, title: str | None = None) -> dict[str, Any]:
    """The problem document; also what API Gateway's own responses (authorizer 401/403) carry."""
    return {
        "type": f"https://docs.dogwalk.example/problems/{code}",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
        "request_id": request_id,
    }


def problem(status: int, code: str, detail: str, *, title: str | None = None, **extra: Any) -> Response:
    body = problem_body(status, code, detail, _request_id(), title)
    headers: dict[str, str] = {}
    if extra.get("errors") is not None:
        body["errors"] = extra["errors"]
    if "retry_after_s" in extra:
        headers["Retry-After"] = str(extra["retry_after_s"])
    return Response(status_code=status, content_type=PROBLEM_JSON, body=json.dumps(body), headers=headers)


_current_request_id = ""


def _request_id() -> str:
    return _current_request_id


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [{"loc": [str(part) for part in err.get("loc", ())], "msg": str(err.get("msg", ""))} for err in exc.errors()]


def install_problem_handlers(app: APIGatewayRestResolver) -> None:
    """Map every error to problem+json: domain errors by their code, validation to 400/422,
    anything unexpected to a 500 that carries only the request id."""

    @app.exception_handler(DomainError)
    def _domain(exc: DomainError) -> Response:
        # one line per refusal, for the saved Logs Insights queries (e.g. code = "payment_declined")
        logger.info("request refused", extra={"status": exc.status, "code": exc.code})
        extra: dict[str, Any] = {"errors": exc.errors}
        if isinstance(exc, RateLimited):
            extra["retry_after_s"] = exc.retry_after_s
        return problem(exc.status, exc.code, exc.detail, title=exc.title, **extra)

    @app.exception_handler(RequestValidationError)
    def _invalid(exc: RequestValidationError) -> Response:
        errors = _field_errors(exc)
        if any(err.get("type") == "json_invalid" for err in exc.errors()):
            return problem(400, "bad_request", "The request body is not valid JSON.", errors=errors)
        return problem(422, "validation_error", "The request does not match the expected shape.", errors=errors)

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response:
        logger.exception("unhandled error")
        metrics.add_metric(name="UnhandledErrors", unit="Count", value=1)
        return problem(500, "internal_error", "Something went wrong on our side; quote the request id.")

    @app.not_found
    def _not_found(exc: Exception) -> Response:
        return problem(404, "not_found", "No such resource.")


def _raw_problem(response: Response) -> dict[str, Any]:
    """A problem answered before the resolver runs, in the proxy-integration shape."""
    return {
        "statusCode": response.status_code,
        "multiValueHeaders": {"Content-Type": [PROBLEM_JSON]},
        "body": response.body,
        "isBase64Encoded": False,
    }


# A JSON escape of NUL, or of a surrogate that is not half of a pair: PostgreSQL text can hold neither.
_UNSTORABLE_ESCAPE = re.compile(
    r"\\u0000|\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    r"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}"
)


def _storable(event: dict[str, Any]) -> bool:
    """No NUL and no lone surrogate in the body, path or query: refused here as a 400 rather than
    failing in the database as a 500, whatever endpoint and model."""
    body = event.get("body") or ""
    if not event.get("isBase64Encoded") and "\\u" in body and _UNSTORABLE_ESCAPE.search(body):
        return False
    values = [*(event.get("pathParameters") or {}).values(), *(event.get("queryStringParameters") or {}).values()]
    for value in values:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        if "\x00" in value:
            return False
    return True


def _header(event: dict[str, Any], name: str) -> str | None:
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name.lower():
            return str(value)
    return None


def _is_text(event: dict[str, Any]) -> bool:
    """API Gateway base64-encodes a body that is not text; JSON must be UTF-8."""
    if not event.get("isBase64Encoded") or not event.get("body"):
        return True
    try:
        base64.b64decode(event["body"]).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return False
    return True


def _is_json(event: dict[str, Any]) -> bool:
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    media_type = (headers.get("content-type") or "application/json").split(";")[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


def _body_size(event: dict[str, Any]) -> int:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        return len(base64.b64decode(body, validate=False))
    return len(body.encode())


class Route:
    """The HTTP side of one declared endpoint, served by one Lambda function: its resolver, the
    route function, roles, limits and problem+json answers."""

    def __init__(self, declaration: str | declarations.Endpoint):
        """`Route(__name__)` in a handler module: the endpoint its service declares for it (the
        module `auth.get_me` is `get_me` of `dogwalk/auth/registry.py`); or a declaration itself."""
        self.declaration = declared_for(declaration) if isinstance(declaration, str) else declaration
        self.app = APIGatewayRestResolver()
        self.func: Callable[..., Any] | None = None
        self.extra_responses: dict[int, type] = {}
        self.media_type: str | None = None
        self.lambda_handler = instrument(self._handle, correlation_paths.API_GATEWAY_REST)

    def handle(
        self, func: Handler | None = None, *, responses: dict[int, type] | None = None, media_type: str | None = None
    ) -> Any:
        """Decorate the route function; `responses` documents answers other than problem+json
        (e.g. health's 503, which carries the health report); `media_type` documents a success
        that is not JSON (the function returns a `Response` with that content type)."""

        def decorate(func: Handler) -> Handler:
            self.func = func
            self.extra_responses = responses or {}
            self.media_type = media_type
            # Validation (pydantic request parsing, response checking) costs ~70 ms of cold start;
            # a route that takes no input has nothing to validate and skips it.
            validates = bool(inspect.signature(func).parameters)
            self.app = APIGatewayRestResolver(enable_validation=validates)
            install_problem_handlers(self.app)
            self.register(self.app)
            snapstart.prime(*self._late_imports(validates), uses=self.declaration.uses)
            return func

        return decorate(func) if func is not None else decorate

    def _late_imports(self, validates: bool) -> list[str]:
        """What `_handle` imports on its first request, beside the adapters the endpoint uses."""
        late = [] if self.declaration.public else ["dogwalk.adapters.ratelimit", "dogwalk.auth.suspensions"]
        if validates:
            late.append("aws_lambda_powertools.event_handler.openapi.compat")  # its first request's validation
        if self.declaration.idempotent:
            late.append("dogwalk.edge.idempotency")
        return late

    def _responses(self) -> dict[int, Any]:
        documented = _problem_responses(self.declaration)
        success = _returned_model(self.func)
        if self.declaration.status_code == 204:
            documented[204] = {"description": "No Content"}
        elif self.media_type is not None:
            documented[self.declaration.status_code] = {
                "description": "Success",
                "content": {self.media_type: {"schema": {"type": "string"}}},
            }
        elif success is not None:
            documented[self.declaration.status_code] = _json_response(success, "Success")
        for status, model in self.extra_responses.items():
            documented[status] = _json_response(model, HTTPStatus(status).phrase)
        return documented

    def register(self, app: APIGatewayRestResolver) -> None:
        """Declare this endpoint's route on `app` (its own resolver, or the OpenAPI document's)."""
        route = self.declaration
        if self.func is None:
            raise TypeError(f"{route.name} has no handler: decorate one with @route.handle")
        app.route(
            rule=re.sub(r"\{(\w+)\}", r"<\1>", route.path),  # API Gateway's {param} is Powertools' <param>
            method=route.method,
            summary=route.summary,
            tags=[route.tag] if route.tag else None,
            operation_id=route.name,
            status_code=route.status_code,
            responses=self._responses(),
            security=None if route.public else [{"bearerAuth": []}],
            middlewares=None if route.public else [self._require_role],
        )(self.func)

    def _require_role(self, app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response:
        principal = principal_of(app.current_event.raw_event)
        if principal is None:
            raise Unauthorized("A valid bearer token is required.")
        if principal.role not in self.declaration.roles:
            raise Forbidden("Your role may not call this endpoint.")
        # imported here: public functions need neither Redis nor the limiter
        from dogwalk.adapters import ratelimit
        from dogwalk.auth import suspensions

        if suspensions.is_suspended(principal.user_id):
            raise Unauthorized("This account is suspended.", code="account_suspended")
        ratelimit.hit(ratelimit.REQUESTS_PER_USER, principal.user_id)
        app.append_context(principal=principal)
        return next_middleware(app)

    def _once(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        """Answer a request that carries an Idempotency-Key: run it once, replay it after."""
        from datetime import timedelta

        from dogwalk.edge import idempotency

        principal = principal_of(event)
        if principal is None:  # the role check answers 401
            return self.app.resolve(event, context)
        fingerprint = idempotency.request_hash(event.get("httpMethod", ""), event.get("path", ""), event.get("body"))
        key = _header(event, "Idempotency-Key") or ""
        try:
            outcome = idempotency.begin(
                principal.user_id,
                self.declaration.name,
                key,
                fingerprint,
                timedelta(seconds=2 * self.declaration.timeout_s),
            )
        except DomainError as exc:
            return _raw_problem(problem(exc.status, exc.code, exc.detail, title=exc.title))
        if isinstance(outcome, dict):
            outcome.setdefault("multiValueHeaders", {})["Idempotent-Replayed"] = ["true"]
            return outcome
        response = self.app.resolve(event, context)
        try:
            idempotency.finish(outcome, int(response["statusCode"]), response)
        except DomainError:  # the answer stands; retries meet a running claim until it is stale
            logger.exception("could not keep the idempotent answer")
        return response

    @property
    def source_ip(self) -> str:
        """The caller's address as API Gateway saw it (the rate limits' subject)."""
        return str(self.app.current_event.request_context.identity.source_ip or "unknown")

    @property
    def principal(self) -> Principal:
        principal = self.app.context.get("principal")
        if principal is None:  # only reachable from a public route, which has no caller
            raise Unauthorized("A valid bearer token is required.")
        return principal

    def _handle(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        global _current_request_id
        request_id = (event.get("requestContext") or {}).get("requestId") or context.aws_request_id
        _current_request_id = request_id
        if _body_size(event) > settings().max_body_bytes:
            limit = settings().max_body_bytes
            response = _raw_problem(problem(413, "payload_too_large", f"The request body is over {limit} bytes."))
        elif event.get("body") and not _is_json(event):
            response = _raw_problem(problem(415, "unsupported_media_type", "Send the body as application/json."))
        elif not _is_text(event):
            response = _raw_problem(problem(400, "bad_request", "The request body is not UTF-8 JSON."))
        elif not _storable(event):
            response = _raw_problem(problem(400, "bad_request", "Text may not contain NUL or unpaired surrogates."))
        elif self.declaration.idempotent and _header(event, "Idempotency-Key") is not None:
            response = self._once(event, context)
        else:
            response = self.app.resolve(event, context)
        headers = response.setdefault("multiValueHeaders", {})
        headers["X-Request-Id"] = [request_id]
        for name, value in SECURITY_HEADERS.items():
            headers[name] = [value]
        chosen = {name.lower() for name in (*headers, *(response.get("headers") or {}))}
        if "cache-control" not in chosen:
            headers.update((name, [value]) for name, value in NO_STORE.items())
        if declarations.EVENTS in self.declaration.uses:  # the domain events this request committed, out now
            from dogwalk.events import relay

            relay.publish_recorded()
        return response


def declared_for(module: str) -> declarations.Endpoint:
    """The endpoint declared for the handler module `<service>.<name>`, read from its service's
    declarations alone: a cold start loads no other service's."""
    service, _, name = module.rpartition(".")
    declared = importlib.import_module(f"dogwalk.{service}.registry").ENDPOINTS
    for candidate in declared:
        if candidate.name == name:
            return candidate
    raise KeyError(f"dogwalk/{service}/registry.py declares no endpoint {name!r}")


def principal_of(event: dict[str, Any]) -> Principal | None:
    context = (event.get("requestContext") or {}).get("authorizer") or {}
    user_id, role = context.get("sub"), context.get("role")
    if not user_id or not role:
        return None
    return Principal(user_id=str(user_id), role=str(role))
