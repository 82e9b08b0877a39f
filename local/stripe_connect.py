"""Stripe Connect, disputes, hold expiry and a movable clock for the local gateway (localstripe), in
Stripe's own request and response shapes, so that the stripe SDK parses them unchanged.

localstripe has no Connect and never expires an uncaptured PaymentIntent. This module adds, onto
its aiohttp app and into its pickled store (so `--state` keeps them across restarts):

- Connect accounts, `/v1/accounts`: made from `type` or from controller properties (Express-style:
  `controller[stripe_dashboard][type]=express`, `[fees][payer]=application`,
  `[losses][payments]=application`, `[requirement_collection]=stripe`), as Stripe makes a new one:
  nothing enabled, requested capabilities `inactive`, the usual fields in
  `requirements.currently_due` and `past_due`, `disabled_reason: "requirements.past_due"`.
- Account links, `/v1/account_links`: `expires_at` 300 s after `created`, single use; the `url` is
  an onboarding page served here, `/_local/connect/onboarding/<token>`. "Complete onboarding"
  enables the account (`details_submitted`, `charges_enabled`, `payouts_enabled`, requested
  capabilities `active`, nothing due), sends `account.updated` and redirects (303) to
  `return_url`. "Leave for now" changes nothing, sends nothing and also redirects to `return_url`:
  Stripe returns there "upon leaving or completing" the flow, so arriving there never means done
  (read the account). A link visited before, or expired, redirects to `refresh_url`.
- Transfers, `/v1/transfers` and `/v1/transfers/{id}/reversals`: refused to an unknown destination
  or one whose `transfers` capability is not active; `POST /_local/transfers/fail_next` makes the
  next ones fail (400 `balance_insufficient`, or 500 as an outage).
- Disputes, `/v1/disputes`: opened on a captured PaymentIntent by `POST /_local/disputes` (or by
  the test card `pm_card_createDispute` when its charge is captured), decided by
  `POST /_local/disputes/{id}/close`; the platform may update evidence or accept (`close`).
- PaymentIntents: `payment_intent.canceled` on every cancellation, `cancellation_reason` and
  `canceled_at`, and Stripe's expiry of a hold: a PaymentIntent still `requires_capture` 7 days
  after its `created` is canceled (`cancellation_reason: "automatic"`). Capturing or canceling one in
  another state answers 400 `payment_intent_unexpected_state`, as Stripe does.
- A clock: real time plus an offset that `POST /_local/clock` moves forward. localstripe's objects
  and these take their `created` from it; expired holds are canceled after every move and before
  any `/v1` request is answered.
- Event delivery, in place of localstripe's: platform events to `--webhook` (and to webhooks added
  through `/_config/webhooks/{id}`), Connect events (top-level `"account"`) to `--connect-webhook`,
  each signed as Stripe signs: `Stripe-Signature: t=<t>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. `t`
  is the real time of the attempt (a moved clock never makes a signature look stale). Sent as an
  asyncio task `--webhook-delay` seconds after the change, retried 4 times (1, 2, 4, 8 s) on an
  error or a non-2xx answer.

Not emulated:
- KYC and verification: onboarding is one button; nothing is collected or checked, no
  `pending_verification`, rejections, deadlines or `future_requirements`; the fields due are a
  fixed, typical list.
- Balances: transfers are not limited by the platform's balance (only `fail_next` refuses for
  that), and transfers, reversals and disputes move no balance (`balance_transaction` null,
  `balance_transactions` empty); `destination_payment` ids name no object.
- Payouts to connected accounts' bank accounts; external accounts (always an empty list).
- Application fees, destination charges (`transfer_data`, `on_behalf_of`), and acting as a
  connected account: a request with a `Stripe-Account` header is refused rather than answered as
  the platform.
- The Express dashboard and login links, account sessions and embedded components, `account_update`
  links (refused for accounts whose requirements Stripe collects, as Stripe refuses them).
- Capabilities other than `transfers`: reported and activated by onboarding, but they gate nothing.
- Dispute economics and review: no dispute fee or withdrawn/reinstated funds (no
  `charge.dispute.funds_*` events); the outcome is whatever the control endpoint says; one dispute
  per charge. An expired hold's charge is left as it was (no `charge.expired`).
- Other Connect events (`capability.updated`, `account.application.*`, connected accounts' own
  payments and payouts); events are not scoped by account in `GET /v1/events`.
- Stripe's retry schedule (3 days); Stripe test clocks (`/v1/test_helpers/test_clocks`): the clock
  here is one for the whole gateway, and it only moves forward.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import hmac
import html
import json
import logging
import re
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web
from localstripe import resources, server, webhooks
from localstripe.errors import UserError

log = logging.getLogger("local.stripe_connect")

# the version the pinned stripe SDK sends; every event carries it, as Stripe stamps its endpoint's version
API_VERSION = "2026-10-28.endive"
HOLD_EXPIRY_S = 7 * 24 * 3600  # Stripe cancels an uncaptured PaymentIntent after 7 days
LINK_TTL_S = 300  # an account link expires 300 s after it is made
DISPUTE_RESPONSE_S = 7 * 24 * 3600  # evidence_details.due_by after the dispute opens (networks vary)
RETRY_PAUSES_S = (1.0, 2.0, 4.0, 8.0)

PLATFORM_EVENTS = (
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.canceled",
    "charge.refunded",
    "charge.dispute.created",
    "charge.dispute.updated",
    "charge.dispute.closed",
    "transfer.created",
    "transfer.updated",
    "transfer.reversed",
)
CONNECT_EVENTS = ("account.updated",)

_CLOCK_KEY = "local:clock"
_LINK_PREFIX = "account_link:"
_DISPUTE_CARD = "4000000000000259"  # Stripe's test card whose charges are disputed as fraudulent


# -- the clock ------------------------------------------------------------------------------------


def offset_s() -> int:
    state = resources.store.get(_CLOCK_KEY) or {}
    return int(state.get("offset_s", 0))


def now() -> int:
    """The gateway's time: real time plus the offset the clock was moved by."""
    return int(time.time()) + offset_s()


class _ShiftedTime:
    """Stands in for the `time` module inside localstripe.resources: its `time()` is the gateway's."""

    def time(self) -> float:
        return time.time() + offset_s()

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


def advance_clock(seconds: int) -> list[str]:
    """Move the clock forward; the ids of the holds that expired with it."""
    resources.store[_CLOCK_KEY] = {"offset_s": offset_s() + seconds}
    return expire_holds()


# -- errors and parameters, as Stripe answers them ------------------------------------------------


def _error(
    message: str,
    *,
    code: str | None = None,
    param: str | None = None,
    status: int = 400,
    kind: str = "invalid_request_error",
    **extra: Any,
) -> UserError:
    contents: dict[str, Any] = dict(extra)
    if code:
        contents["code"] = code
        contents["doc_url"] = f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"
    if param:
        contents["param"] = param
    error = UserError(status, message, contents)
    error.body["error"]["type"] = kind
    return error


def _missing(kind: str, id_: str, param: str, status: int = 400) -> UserError:
    return _error(f"No such {kind}: '{id_}'", code="resource_missing", param=param, status=status)


def _only(params: dict[str, Any], allowed: Iterable[str]) -> None:
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise _error(f"Received unknown parameter: {unknown[0]}", code="parameter_unknown", param=unknown[0])


def _text(
    params: dict[str, Any], name: str, *, required: bool = False, choices: Iterable[str] | None = None
) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise _error(f"Missing required param: {name}.", code="parameter_missing", param=name)
        return None
    if not isinstance(value, str):
        raise _error(f"Invalid string: {value!r}", code="parameter_invalid_string", param=name)
    if choices is not None and value not in set(choices):
        options = ", ".join(f"`{choice}`" for choice in choices)
        raise _error(f"Invalid {name}: must be one of {options}", code="parameter_invalid_string", param=name)
    return value


def _integer(
    params: dict[str, Any], name: str, *, required: bool = False, minimum: int | None = None, maximum: int | None = None
) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise _error(f"Missing required param: {name}.", code="parameter_missing", param=name)
        return None
    if isinstance(value, bool) or not (
        isinstance(value, int) or (isinstance(value, str) and re.fullmatch(r"-?\d+", value))
    ):
        raise _error(f"Invalid integer: {value}", code="parameter_invalid_integer", param=name)
    number = int(value)
    if minimum is not None and number < minimum:
        raise _error(
            f"This value must be greater than or equal to {minimum}.", code="parameter_invalid_integer", param=name
        )
    if maximum is not None and number > maximum:
        raise _error(
            f"This value must be less than or equal to {maximum}.", code="parameter_invalid_integer", param=name
        )
    return number


def _boolean(value: Any, name: str) -> bool:
    if value in (True, "true"):
        return True
    if value in (False, "false"):
        return False
    raise _error(f"Invalid boolean: {value}", param=name)


def _object(params: dict[str, Any], name: str) -> dict[str, Any]:
    value = params.get(name)
    if value is None or value == "":
        return {}
    if not isinstance(value, dict):
        raise _error(f"Invalid object: {name}", code="parameter_invalid_empty", param=name)
    return value


def _metadata(value: Any, current: dict[str, str] | None = None) -> dict[str, str]:
    """Stripe's metadata semantics: keys merged in, a key posted empty unset, `metadata=""` all unset."""
    merged = dict(current or {})
    if value is None:
        return merged
    if value == "":
        return {}
    if not isinstance(value, dict):
        raise _error("Invalid object: metadata", param="metadata")
    for key, item in value.items():
        if not isinstance(item, str):
            raise _error(f"Invalid string: metadata[{key}]", param=f"metadata[{key}]")
        if len(key) > 40 or len(item) > 500:
            raise _error("Metadata keys are limited to 40 characters and values to 500.", param=f"metadata[{key}]")
        if item == "":
            merged.pop(key, None)
        else:
            merged[key] = item
    if len(merged) > 50:
        raise _error("You can specify up to 50 metadata keys.", param="metadata")
    return merged


def _url(params: dict[str, Any], name: str) -> str:
    value = _text(params, name, required=True) or ""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise _error("Not a valid URL", code="url_invalid", param=name)
    return value


def _expand(params: dict[str, Any]) -> list[str]:
    value = params.pop("expand", None)
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _created_filter(params: dict[str, Any]) -> Callable[[int], bool]:
    value = params.get("created")
    if value is None or value == "":
        return lambda _created: True
    if not isinstance(value, dict):
        exact = _integer(params, "created", minimum=0)
        return lambda created: created == exact
    _only(value, ("gt", "gte", "lt", "lte"))
    bounds = {op: _integer(value, op, minimum=0) for op in value}
    tests: dict[str, Callable[[int, int], bool]] = {
        "gt": lambda a, b: a > b,
        "gte": lambda a, b: a >= b,
        "lt": lambda a, b: a < b,
        "lte": lambda a, b: a <= b,
    }
    return lambda created: all(tests[op](created, bound) for op, bound in bounds.items() if bound is not None)


def _newest_first(kind: str) -> list[Any]:
    """Stored objects of one kind, newest first (the store keeps the order they were made in)."""
    prefix = kind + ":"
    return [value for key, value in reversed(resources.store.items()) if key.startswith(prefix)]


def _page(url: str, items: list[Any], params: dict[str, Any], expand: list[str]) -> dict[str, Any]:
    """One page of a Stripe list: `limit` (1-100, 10), `starting_after` or `ending_before`."""
    limit = _integer(params, "limit", minimum=1, maximum=100) or 10
    after, before = _text(params, "starting_after"), _text(params, "ending_before")
    if after and before:
        raise _error("You may only specify one of these parameters: ending_before, starting_after.")
    ids = [item.id for item in items]
    if after or before:
        cursor = after or before
        if cursor not in ids:
            raise _missing("object", str(cursor), "starting_after" if after else "ending_before")
        at = ids.index(str(cursor))
        start, end = (at + 1, at + 1 + limit) if after else (max(0, at - limit), at)
    else:
        start, end = 0, limit
    window = items[start:end]
    has_more = start > 0 if before else len(items) > end
    inner = [path[5:] for path in expand if path.startswith("data.")]
    return {"object": "list", "data": [item._export(expand=inner) for item in window], "has_more": has_more, "url": url}


def _find(cls: Any, id_: str, kind: str, param: str = "id", status: int = 404) -> Any:
    found = resources.store.get(f"{cls.object}:{id_}")
    if found is None:
        raise _missing(kind, id_, param, status)
    return found


def _dump() -> None:
    resources.store.dump_to_disk()


# -- events and their delivery --------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    url: str
    secret: str
    events: frozenset[str] | None


@dataclass
class _Settings:
    base_url: str = "http://127.0.0.1"
    delay_s: float = 1.0
    connect: list[Endpoint] = field(default_factory=list)


_settings = _Settings()
_deliveries: set[asyncio.Future[None]] = set()


def signature_header(payload: bytes, secret: str, timestamp: int) -> str:
    """`Stripe-Signature` as Stripe (and localstripe's webhooks.py) sign: HMAC-SHA256 of `t.payload`."""
    mac = hmac.new(secret.encode("utf-8"), b"%d.%s" % (timestamp, payload), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def emit(kind: str, subject: Any, *, account: str | None = None, previous: dict[str, Any] | None = None) -> Any:
    """Record an event about `subject` (Connect's when `account` is given) and schedule its delivery."""
    event = resources.Event(kind, subject)
    if account is not None:
        event.account = account
    if previous is not None:
        event.data["previous_attributes"] = previous
    schedule(event)
    return event


def schedule(event: Any) -> None:
    """Deliver an event (ours or localstripe's: this replaces its `schedule_webhook`) to the endpoints
    that take it: Connect endpoints for events with `account`, the platform's for the others."""
    event.data = copy.deepcopy(event.data)  # a snapshot: later changes to the object leave it as it was
    event.api_version = API_VERSION
    event.request = {"id": None, "idempotency_key": None}
    if getattr(event, "account", None) is not None:
        targets = list(_settings.connect)
    else:
        targets = [
            Endpoint(hook.url, hook.secret, None if hook.events is None else frozenset(hook.events))
            for hook in webhooks._webhooks.values()
        ]
    targets = [target for target in targets if target.events is None or event.type in target.events]
    event.pending_webhooks = len(targets)
    if not targets:
        return
    payload = json.dumps(event._export(), indent=2, sort_keys=True).encode("utf-8")
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # not while serving (e.g. loading the state): nothing to deliver to yet
        log.warning("event %s %s not delivered: no running loop", event.id, event.type)
        return
    for target in targets:
        delivery = asyncio.ensure_future(_deliver(target, event, payload))
        _deliveries.add(delivery)
        delivery.add_done_callback(_deliveries.discard)


async def _deliver(target: Endpoint, event: Any, payload: bytes) -> None:
    await asyncio.sleep(_settings.delay_s)
    for attempt, pause in enumerate((*RETRY_PAUSES_S, None), start=1):
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            # the real time of this attempt, which the receiver checks against its own clock
            "Stripe-Signature": signature_header(payload, target.secret, int(time.time())),
        }
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session,
                session.post(target.url, data=payload, headers=headers) as answer,
            ):
                if 200 <= answer.status < 300:
                    event.pending_webhooks = max(0, int(event.pending_webhooks) - 1)
                    return
                failure = f"HTTP {answer.status}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            failure = repr(exc)
        if pause is None:
            log.warning(
                "event %s %s to %s abandoned after %d attempts: %s", event.id, event.type, target.url, attempt, failure
            )
            return
        log.warning("event %s %s to %s failed (%s); retrying in %ss", event.id, event.type, target.url, failure, pause)
        await asyncio.sleep(pause)


# -- Connect accounts -----------------------------------------------------------------------------

_CAPABILITY = re.compile(r"^[a-z][a-z0-9_]*$")
_COUNTRY_CURRENCY = {
    "US": "usd",
    "GB": "gbp",
    "CA": "cad",
    "AU": "aud",
    "NZ": "nzd",
    "JP": "jpy",
    "CH": "chf",
    "SE": "sek",
    "NO": "nok",
    "DK": "dkk",
    "PL": "pln",
    "SG": "sgd",
    "HK": "hkd",
    "MX": "mxn",
}
_EURO = {
    "AT",
    "BE",
    "CY",
    "DE",
    "EE",
    "ES",
    "FI",
    "FR",
    "GR",
    "HR",
    "IE",
    "IT",
    "LT",
    "LU",
    "LV",
    "MT",
    "NL",
    "PT",
    "SI",
    "SK",
}
_BUSINESS_TYPES = ("individual", "company", "non_profit", "government_entity")
_LEGACY_TYPES = {  # type -> (fees.payer, losses.payments, requirement_collection, stripe_dashboard.type)
    "express": ("application_express", "application", "stripe", "express"),
    "standard": ("account", "stripe", "stripe", "full"),
    "custom": ("application_custom", "application", "application", "none"),
}
_ACCOUNT_PARAMS = (
    "type",
    "controller",
    "country",
    "email",
    "capabilities",
    "metadata",
    "business_type",
    "business_profile",
    "default_currency",
)
_PROFILE_FIELDS = ("mcc", "name", "product_description", "support_email", "support_phone", "support_url", "url")


def _due(business_type: str | None, country: str) -> list[str]:
    """The fields Stripe typically lists as due for a new account of this business type."""
    due = [
        "business_profile.mcc",
        "business_profile.url",
        "external_account",
        "tos_acceptance.date",
        "tos_acceptance.ip",
    ]
    if business_type is None:
        due.append("business_type")
    elif business_type == "individual":
        due += [
            "individual.address.city",
            "individual.address.line1",
            "individual.address.postal_code",
            "individual.dob.day",
            "individual.dob.month",
            "individual.dob.year",
            "individual.email",
            "individual.first_name",
            "individual.last_name",
            "individual.phone",
        ]
        if country == "US":
            due += ["individual.address.state", "individual.ssn_last_4"]
    else:
        due += [
            "company.address.city",
            "company.address.line1",
            "company.address.postal_code",
            "company.name",
            "company.phone",
            "company.tax_id",
            "representative.dob.day",
            "representative.dob.month",
            "representative.dob.year",
            "representative.email",
            "representative.first_name",
            "representative.last_name",
            "representative.phone",
            "representative.relationship.title",
        ]
    return sorted(due)


def _requirements(due: list[str]) -> dict[str, Any]:
    return {
        "alternatives": [],
        "current_deadline": None,
        "currently_due": list(due),
        "disabled_reason": "requirements.past_due" if due else None,
        "errors": [],
        "eventually_due": list(due),
        "past_due": list(due),
        "pending_verification": [],
    }


def _controller(params: dict[str, Any], legacy_type: str | None) -> tuple[dict[str, Any], str]:
    """The account's `controller` hash and `type`, from `type` or from controller properties."""
    given = _object(params, "controller")
    if legacy_type is not None:
        if given:
            raise _error("You cannot specify both `type` and `controller`.", param="controller")
        fees, losses, collection, dashboard = _LEGACY_TYPES[legacy_type]
        kind = legacy_type
    else:
        _only(given, ("fees", "losses", "requirement_collection", "stripe_dashboard"))
        fees = _text(_object(given, "fees"), "payer", choices=("account", "application")) or "account"
        losses = _text(_object(given, "losses"), "payments", choices=("application", "stripe")) or "stripe"
        collection = _text(given, "requirement_collection", choices=("application", "stripe")) or "stripe"
        dashboard = _text(_object(given, "stripe_dashboard"), "type", choices=("express", "full", "none")) or "full"
        if collection == "application" and dashboard != "none":
            raise _error(
                "Accounts whose requirements your platform collects can't have a Stripe Dashboard: "
                "set `controller[stripe_dashboard][type]` to `none`.",
                param="controller",
            )
        kind = {"full": "standard", "express": "express"}.get(dashboard) or (
            "custom" if collection == "application" else "none"
        )
    controller = {
        "fees": {"payer": fees},
        "is_controller": True,
        "losses": {"payments": losses},
        "requirement_collection": collection,
        "stripe_dashboard": {"type": dashboard},
        "type": "application",
    }
    return controller, kind


def _capabilities(params: dict[str, Any], current: dict[str, str] | None = None) -> dict[str, str]:
    capabilities = dict(current or {})
    for name, request in _object(params, "capabilities").items():
        if not _CAPABILITY.match(name) or not isinstance(request, dict):
            raise _error(f"Invalid capability: {name}", param=f"capabilities[{name}]")
        _only(request, ("requested",))
        if _boolean(request.get("requested"), f"capabilities[{name}][requested]"):
            capabilities.setdefault(name, "inactive")
        else:
            capabilities.pop(name, None)
    return capabilities


def _profile(params: dict[str, Any], current: dict[str, Any] | None = None) -> dict[str, Any]:
    profile = dict(current or {name: None for name in _PROFILE_FIELDS})
    given = _object(params, "business_profile")
    _only(given, _PROFILE_FIELDS)
    for name in given:
        profile[name] = _text(given, name)
    return profile


class Account(resources.StripeObject):
    object = "account"
    _id_prefix = "acct_"

    def __init__(self, **params: Any) -> None:
        _only(params, _ACCOUNT_PARAMS)
        legacy_type = _text(params, "type", choices=tuple(_LEGACY_TYPES))
        controller, kind = _controller(params, legacy_type)
        country = (_text(params, "country") or "US").upper()
        if not re.fullmatch(r"[A-Z]{2}", country):
            raise _error(f"Invalid country: {country}", param="country")
        currency = _text(params, "default_currency") or _COUNTRY_CURRENCY.get(
            country, "eur" if country in _EURO else "usd"
        )
        business_type = _text(params, "business_type", choices=_BUSINESS_TYPES)
        email = _text(params, "email")
        capabilities, metadata, profile = _capabilities(params), _metadata(params.get("metadata")), _profile(params)
        super().__init__()  # every refusal comes before this: it stores the account
        self.business_profile = profile
        self.business_type = business_type
        self.capabilities = capabilities
        self.charges_enabled = False
        self.controller = controller
        self.country = country
        self.default_currency = currency.lower()
        self.details_submitted = False
        self.email = email
        self.external_accounts = {
            "object": "list",
            "data": [],
            "has_more": False,
            "total_count": 0,
            "url": f"/v1/accounts/{self.id}/external_accounts",
        }
        self.future_requirements = _requirements([])
        self.metadata = metadata
        self.payouts_enabled = False
        self.requirements = _requirements(_due(business_type, country))
        self.settings = {
            "payouts": {
                "debit_negative_balances": True,
                "schedule": {"delay_days": 2, "interval": "daily"},
                "statement_descriptor": None,
            }
        }
        self.tos_acceptance: dict[str, Any] = {"date": None, "ip": None, "user_agent": None}
        self.type = kind

    def _apply_update(self, params: dict[str, Any]) -> None:
        _only(params, ("email", "metadata", "capabilities", "business_type", "business_profile"))
        business_type = _text(params, "business_type", choices=_BUSINESS_TYPES)
        email = _text(params, "email")
        capabilities = _capabilities(params, self.capabilities)
        profile = _profile(params, self.business_profile)
        self.metadata = _metadata(params.get("metadata"), self.metadata)
        if email is not None:
            self.email = email
        if business_type is not None and not self.details_submitted:
            self.business_type = business_type
            self.requirements = _requirements(_due(business_type, self.country))
        if self.details_submitted:  # newly requested capabilities of an onboarded account: nothing more due here
            capabilities = {name: "active" for name in capabilities}
        self.capabilities = capabilities
        self.business_profile = profile

    def _complete_onboarding(self) -> dict[str, Any]:
        """What "Complete onboarding" does; the attributes it changed, as they were."""
        names = (
            "business_type",
            "capabilities",
            "charges_enabled",
            "details_submitted",
            "payouts_enabled",
            "requirements",
            "tos_acceptance",
        )
        before = copy.deepcopy({name: getattr(self, name) for name in names})
        self.business_type = self.business_type or "individual"
        self.capabilities = {name: "active" for name in self.capabilities}
        self.charges_enabled = self.details_submitted = self.payouts_enabled = True
        self.requirements = _requirements([])
        self.tos_acceptance = {"date": now(), "ip": "127.0.0.1", "user_agent": "local onboarding page"}
        return {name: value for name, value in before.items() if value != getattr(self, name)}

    def _receives_transfers(self) -> bool:
        return bool(self.capabilities.get("transfers") == "active")


def _account_json(account: Account, expand: list[str]) -> web.Response:
    return server.json_response(account._export(expand=expand))


async def _form(request: web.Request) -> dict[str, Any]:
    data = await server.get_post_data(request)
    if not data:
        return {}
    if not isinstance(data, dict):
        raise _error("Invalid request body: expected parameters")
    return dict(data)


def _query(request: web.Request) -> dict[str, Any]:
    return dict(server.unflatten_data(request.query) or {})


async def create_account(request: web.Request) -> web.Response:
    params = await _form(request)
    expand = _expand(params)
    return _account_json(Account(**params), expand)


async def retrieve_account(request: web.Request) -> web.Response:
    params = _query(request)
    expand = _expand(params)
    _only(params, ())
    return _account_json(_find(Account, request.match_info["id"], "account", "account"), expand)


async def update_account(request: web.Request) -> web.Response:
    account = _find(Account, request.match_info["id"], "account", "account")
    params = await _form(request)
    expand = _expand(params)
    account._apply_update(params)
    return _account_json(account, expand)


async def delete_account(request: web.Request) -> web.Response:
    account = _find(Account, request.match_info["id"], "account", "account")
    del resources.store[f"account:{account.id}"]
    return server.json_response({"id": account.id, "object": "account", "deleted": True})


async def list_accounts(request: web.Request) -> web.Response:
    params = _query(request)
    expand = _expand(params)
    _only(params, ("limit", "starting_after", "ending_before", "created"))
    created = _created_filter(params)
    accounts = [account for account in _newest_first("account") if created(account.created)]
    return server.json_response(_page("/v1/accounts", accounts, params, expand))


# -- account links and the onboarding page --------------------------------------------------------


@dataclass
class OnboardingLink:
    token: str
    account: str
    kind: str
    refresh_url: str
    return_url: str
    created: int
    expires_at: int
    session: str | None = None  # set on the first visit: the page's forms carry it
    finished: bool = False


async def create_account_link(request: web.Request) -> web.Response:
    params = await _form(request)
    _expand(params)
    _only(params, ("account", "type", "refresh_url", "return_url", "collect", "collection_options"))
    account_id = _text(params, "account", required=True) or ""
    kind = _text(params, "type", required=True, choices=("account_onboarding", "account_update")) or ""
    account = _find(Account, account_id, "account", "account", status=400)
    if kind == "account_update" and account.controller["requirement_collection"] == "stripe":
        raise _error(
            "You cannot create `account_update` type Account Links for accounts whose requirements "
            "Stripe collects: use `account_onboarding`.",
            param="type",
        )
    refresh_url, return_url = _url(params, "refresh_url"), _url(params, "return_url")
    created = now()
    link = OnboardingLink(
        secrets.token_urlsafe(24), account.id, kind, refresh_url, return_url, created, created + LINK_TTL_S
    )
    resources.store[_LINK_PREFIX + link.token] = link
    return server.json_response(
        {
            "object": "account_link",
            "created": link.created,
            "expires_at": link.expires_at,
            "url": f"{_settings.base_url}/_local/connect/onboarding/{link.token}",
        }
    )


_CSS = """
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;background:#f6f8fa;color:#1a1f36}
main{max-width:34rem;margin:3rem auto;background:#fff;border-radius:12px;padding:2rem 2.25rem;
box-shadow:0 1px 3px rgba(0,0,0,.12)}
h1{font-size:1.5rem;margin:.25rem 0 1rem}h2{font-size:1rem;margin:1.5rem 0 .5rem}
.banner{display:inline-block;background:#fff4e5;color:#8a4b00;border-radius:6px;padding:.15rem .6rem;font-size:.8rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:0}dt{color:#697386}dd{margin:0}
code{font-size:.9em}ul{margin:0;padding-left:1.25rem;color:#3c4257;font-size:.9rem}
.actions{display:flex;gap:.75rem;margin-top:2rem}
button{font:inherit;border-radius:6px;padding:.6rem 1.1rem;cursor:pointer;border:1px solid #d5dbe1;background:#fff}
button.primary{background:#635bff;border-color:#635bff;color:#fff}
.note{color:#697386;font-size:.85rem;margin-top:1.5rem}
"""


def _page_response(body: str, title: str, status: int = 200) -> web.Response:
    document = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body><main>{body}</main></body></html>"
    )
    response = web.Response(text=document, status=status, content_type="text/html", charset="utf-8")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the link's token is in the URL
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'"
    )
    return response


def _onboarding_page(link: OnboardingLink, account: Account) -> web.Response:
    escape = html.escape
    facts = [
        ("Account", f"<code>{escape(account.id)}</code>"),
        ("Email", escape(account.email or "—")),
        ("Country", escape(account.country)),
        ("Type", escape(account.type)),
        ("Details submitted", "yes" if account.details_submitted else "no"),
        ("Payouts enabled", "yes" if account.payouts_enabled else "no"),
    ]
    due = account.requirements["currently_due"]
    listed = "".join(f"<li><code>{escape(item)}</code></li>" for item in due) or "<li>Nothing</li>"
    body = (
        '<span class="banner">Local test gateway · stands in for Stripe-hosted onboarding</span>'
        "<h1>Set up payouts</h1>"
        f"<dl>{''.join(f'<dt>{name}</dt><dd>{value}</dd>' for name, value in facts)}</dl>"
        f"<h2>Information Stripe would collect</h2><ul>{listed}</ul>"
        f'<form method="post" action="/_local/connect/onboarding/{escape(link.token)}">'
        f'<input type="hidden" name="session" value="{escape(link.session or "")}">'
        '<div class="actions"><button class="primary" type="submit" name="action" value="complete">'
        'Complete onboarding</button><button type="submit" name="action" value="leave">Leave for now</button></div>'
        "</form>"
        '<p class="note">Nothing is collected or verified here: completing enables the account at once.</p>'
    )
    return _page_response(body, f"Onboarding · {account.id}")


def _invalid_link() -> web.Response:
    return _page_response(
        "<h1>This link is not valid</h1><p>Ask the platform for a new one.</p>", "Invalid link", status=404
    )


async def onboarding_page(request: web.Request) -> web.StreamResponse:
    link = resources.store.get(_LINK_PREFIX + request.match_info["token"])
    if not isinstance(link, OnboardingLink):
        return _invalid_link()
    account = resources.store.get(f"account:{link.account}")
    if account is None:
        return _invalid_link()
    if link.session is not None or now() >= link.expires_at:  # visited before, or expired: single use
        raise web.HTTPFound(link.refresh_url)
    if request.method == "HEAD":  # a link previewer's look does not use the link up
        return _page_response("", "Onboarding")
    link.session = secrets.token_urlsafe(16)
    _dump()
    return _onboarding_page(link, account)


async def onboarding_submit(request: web.Request) -> web.StreamResponse:
    link = resources.store.get(_LINK_PREFIX + request.match_info["token"])
    if not isinstance(link, OnboardingLink):
        return _invalid_link()
    form = await request.post()
    session, action = form.get("session"), form.get("action")
    if (
        link.finished
        or link.session is None
        or not isinstance(session, str)
        or not hmac.compare_digest(session, link.session)
    ):
        raise web.HTTPSeeOther(link.refresh_url)
    account = resources.store.get(f"account:{link.account}")
    if account is None:
        return _invalid_link()
    if action == "complete":
        link.finished = True
        previous = account._complete_onboarding()
        if previous:
            emit("account.updated", account, account=account.id, previous=previous)
        raise web.HTTPSeeOther(link.return_url)
    if action == "leave":  # nothing entered, nothing changed: Stripe sends no event, and returns the user
        link.finished = True
        raise web.HTTPSeeOther(link.return_url)
    return _page_response("<h1>Unknown action</h1>", "Unknown action", status=400)


# -- transfers ------------------------------------------------------------------------------------

_faults: dict[str, int] = {"count": 0, "status": 400}


class TransferReversal(resources.StripeObject):
    object = "transfer_reversal"
    _id_prefix = "trr_"

    def __init__(self, transfer: Transfer, amount: int, metadata: dict[str, str]) -> None:
        super().__init__()
        self.amount = amount
        self.balance_transaction = None
        self.currency = transfer.currency
        self.destination_payment_refund = "pyr_" + resources.random_id(24)
        self.metadata = metadata
        self.source_refund = None
        self.transfer = transfer.id


class Transfer(resources.StripeObject):
    object = "transfer"
    _id_prefix = "tr_"

    def __init__(
        self,
        *,
        amount: int,
        currency: str,
        destination: str,
        description: str | None,
        metadata: dict[str, str],
        transfer_group: str | None,
        source_transaction: str | None,
    ) -> None:
        super().__init__()
        self.amount = amount
        self.balance_transaction = None
        self.currency = currency
        self.description = description
        self.destination = destination
        self.destination_payment = "py_" + resources.random_id(24)
        self.metadata = metadata
        self.source_transaction = source_transaction
        self.source_type = "card"
        self.transfer_group = transfer_group
        self._reversal_ids: list[str] = []

    def _reversals(self) -> list[TransferReversal]:
        """Newest first."""
        return [resources.store[f"transfer_reversal:{id_}"] for id_ in reversed(self._reversal_ids)]

    @property
    def amount_reversed(self) -> int:
        return sum(reversal.amount for reversal in self._reversals())

    @property
    def reversed(self) -> bool:
        return self.amount_reversed >= self.amount

    @property
    def reversals(self) -> dict[str, Any]:
        reversals = self._reversals()
        return {
            "object": "list",
            "data": [reversal._export() for reversal in reversals[:10]],
            "has_more": len(reversals) > 10,
            "total_count": len(reversals),
            "url": f"/v1/transfers/{self.id}/reversals",
        }


async def create_transfer(request: web.Request) -> web.Response:
    params = await _form(request)
    expand = _expand(params)
    _only(
        params, ("amount", "currency", "destination", "description", "metadata", "transfer_group", "source_transaction")
    )
    amount = _integer(params, "amount", required=True, minimum=1) or 0
    currency = (_text(params, "currency", required=True) or "").lower()
    if not re.fullmatch(r"[a-z]{3}", currency):
        raise _error(f"Invalid currency: {currency}.", code="parameter_invalid_string", param="currency")
    destination = _text(params, "destination", required=True) or ""
    metadata = _metadata(params.get("metadata"))
    source = _text(params, "source_transaction")
    if source is not None and resources.store.get(f"charge:{source}") is None:
        raise _missing("charge", source, "source_transaction")
    account = resources.store.get(f"account:{destination}")
    if account is None:
        raise _error(f"No such destination: '{destination}'", code="resource_missing", param="destination")
    if not account._receives_transfers():
        raise _error(
            "Your destination account needs to have at least one of the following capabilities enabled: "
            "transfers, crypto_transfers, legacy_payments",
            code="insufficient_capabilities_for_transfer",
            param="destination",
        )
    if _faults["count"] > 0:
        _faults["count"] -= 1
        if _faults["status"] >= 500:
            raise _error("An unknown error occurred", status=_faults["status"], kind="api_error")
        raise _error(
            "You have insufficient available funds in your Stripe account. Try adding funds directly to "
            "your available balance by creating Charges using the 4000000000000077 test card.",
            code="balance_insufficient",
            status=_faults["status"],
        )
    transfer = Transfer(
        amount=amount,
        currency=currency,
        destination=destination,
        metadata=metadata,
        description=_text(params, "description"),
        transfer_group=_text(params, "transfer_group"),
        source_transaction=source,
    )
    emit("transfer.created", transfer)
    return server.json_response(transfer._export(expand=expand))


async def retrieve_transfer(request: web.Request) -> web.Response:
    params = _query(request)
    expand = _expand(params)
    _only(params, ())
    return server.json_response(_find(Transfer, request.match_info["id"], "transfer")._export(expand=expand))


async def update_transfer(request: web.Request) -> web.Response:
    transfer = _find(Transfer, request.match_info["id"], "transfer")
    params = await _form(request)
    expand = _expand(params)
    _only(params, ("description", "metadata"))
    previous = copy.deepcopy({"description": transfer.description, "metadata": transfer.metadata})
    if "description" in params:
        transfer.description = _text(params, "description")
    transfer.metadata = _metadata(params.get("metadata"), transfer.metadata)
    changed = {name: value for name, value in previous.items() if getattr(transfer, name) != value}
    if changed:
        emit("transfer.updated", transfer, previous=changed)
    return server.json_response(transfer._export(expand=expand))


async def list_transfers(request: web.Request) -> web.Response:
    params = _query(request)
    expand = _expand(params)
    _only(params, ("destination", "transfer_group", "created", "limit", "starting_after", "ending_before"))
    destination, group = _text(params, "destination"), _text(params, "transfer_group")
    created = _created_filter(params)
    transfers = [
        transfer
        for transfer in _newest_first("transfer")
        if (destination is None or transfer.destination == destination)
        and (group is None or transfer.transfer_group == group)
        and created(transfer.created)
    ]
    return server.json_response(_page("/v1/transfers", transfers, params, expand))


async def create_reversal(request: web.Request) -> web.Response:
    transfer = _find(Transfer, request.match_info["id"], "transfer")
    params = await _form(request)
    expand = _expand(params)
    _only(params, ("amount", "description", "metadata", "refund_application_fee"))
    if "refund_application_fee" in params:
        _boolean(params["refund_application_fee"], "refund_application_fee")
    left = transfer.amount - transfer.amount_reversed
    if left <= 0:
        raise _error(f"Transfer {transfer.id} has already been fully reversed.", param="amount")
    amount = _integer(params, "amount", minimum=1)
    if amount is None:
        amount = left
    if amount > left:
        raise _error(
            f"Transfer reversal amount ({amount}) is greater than the amount that can still be reversed ({left}).",
            param="amount",
        )
    previous = {"amount_reversed": transfer.amount_reversed, "reversed": transfer.reversed}
    reversal = TransferReversal(transfer, amount, _metadata(params.get("metadata")))
    transfer._reversal_ids.append(reversal.id)
    emit("transfer.reversed", transfer, previous=previous)
    return server.json_response(reversal._export(expand=expand))


async def list_reversals(request: web.Request) -> web.Response:
    transfer = _find(Transfer, request.match_info["id"], "transfer")
    params = _query(request)
    expand = _expand(params)
    _only(params, ("limit", "starting_after", "ending_before"))
    return server.json_response(_page(f"/v1/transfers/{transfer.id}/reversals", transfer._reversals(), params, expand))


async def retrieve_reversal(request: web.Request) -> web.Response:
    transfer = _find(Transfer, request.match_info["transfer"], "transfer")
    params = _query(request)
    expand = _expand(params)
    _only(params, ())
    reversal = resources.store.get(f"transfer_reversal:{request.match_info['id']}")
    if reversal is None or reversal.transfer != transfer.id:
        raise _missing("transfer reversal", request.match_info["id"], "id", 404)
    return server.json_response(reversal._export(expand=expand))


async def fail_next(request: web.Request) -> web.Response:
    """`{"count": n, "status": 400 | 500}`: the next n transfers that would be made fail instead."""
    body = await _json_body(request)
    count, status = body.get("count", 1), body.get("status", 400)
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise _error("`count` must be a whole number of transfers.", param="count")
    if status not in (400, 500):
        raise _error("`status` is 400 (balance_insufficient) or 500 (api_error).", param="status")
    _faults.update(count=count, status=status)
    return server.json_response({"fail_next": count, "status": status})


# -- disputes -------------------------------------------------------------------------------------

_REASONS = (
    "bank_cannot_process",
    "check_returned",
    "credit_not_processed",
    "customer_initiated",
    "debit_not_authorized",
    "duplicate",
    "fraudulent",
    "general",
    "incorrect_account_details",
    "insufficient_funds",
    "product_not_received",
    "product_unacceptable",
    "subscription_canceled",
    "unrecognized",
)
_EVIDENCE = (
    "access_activity_log",
    "billing_address",
    "cancellation_policy",
    "cancellation_policy_disclosure",
    "cancellation_rebuttal",
    "customer_communication",
    "customer_email_address",
    "customer_name",
    "customer_purchase_ip",
    "customer_signature",
    "duplicate_charge_documentation",
    "duplicate_charge_explanation",
    "duplicate_charge_id",
    "product_description",
    "receipt",
    "refund_policy",
    "refund_policy_disclosure",
    "refund_refusal_explanation",
    "service_date",
    "service_documentation",
    "shipping_address",
    "shipping_carrier",
    "shipping_date",
    "shipping_documentation",
    "shipping_tracking_number",
    "uncategorized_file",
    "uncategorized_text",
)
_OPEN = ("warning_needs_response", "needs_response", "warning_under_review", "under_review")


class Dispute(resources.StripeObject):
    object = "dispute"
    _id_prefix = "dp_"

    def __init__(self, charge: Any, amount: int, reason: str) -> None:
        super().__init__()
        self.amount = amount
        self.balance_transactions: list[Any] = []
        self.charge = charge.id
        self.currency = charge.currency
        self.evidence: dict[str, Any] = dict.fromkeys(_EVIDENCE)
        self.evidence_details = {
            "due_by": self.created + DISPUTE_RESPONSE_S,
            "has_evidence": False,
            "past_due": False,
            "submission_count": 0,
        }
        self.is_charge_refundable = False
        self.metadata: dict[str, str] = {}
        self.payment_intent = charge.payment_intent
        self.payment_method_details = {
            "card": {
                "brand": "visa",
                "case_type": "chargeback",
                "network_reason_code": "10.4" if reason == "fraudulent" else None,
            },
            "type": "card",
        }
        self.reason = reason
        self.status = "needs_response"


def open_dispute(intent_id: str, amount: int | None = None, reason: str | None = None) -> Dispute:
    """A cardholder's dispute of the PaymentIntent's captured charge; `charge.dispute.created` sent."""
    intent = resources.store.get(f"payment_intent:{intent_id}")
    if intent is None:
        raise _missing("payment_intent", intent_id, "payment_intent")
    charge = intent.latest_charge
    if charge is None or charge.status != "succeeded" or not charge.captured:
        raise _error(
            f"PaymentIntent {intent_id} has no captured charge to dispute (status {intent.status}).",
            param="payment_intent",
        )
    if getattr(charge, "_dispute", None):
        raise _error(f"Charge {charge.id} has already been disputed ({charge._dispute}).", param="payment_intent")
    disputable = charge.amount - charge.amount_refunded
    amount = disputable if amount is None else amount
    if not 0 < amount <= disputable:
        raise _error(f"The dispute amount must be between 1 and {disputable}.", param="amount")
    dispute = Dispute(charge, amount, reason or "fraudulent")
    charge._dispute = dispute.id
    emit("charge.dispute.created", dispute)
    return dispute


def _close_dispute(dispute: Dispute, status: str) -> None:
    previous = {"status": dispute.status}
    dispute.status = status
    dispute.is_charge_refundable = False
    emit("charge.dispute.closed", dispute, previous=previous)


async def create_local_dispute(request: web.Request) -> web.Response:
    """`{"payment_intent": "pi_…", "amount": optional, "reason": optional ("fraudulent")}`."""
    body = await _json_body(request)
    _only(body, ("payment_intent", "amount", "reason"))
    intent = _text(body, "payment_intent", required=True) or ""
    amount = _integer(body, "amount", minimum=1)
    reason = _text(body, "reason", choices=_REASONS)
    return server.json_response(open_dispute(intent, amount, reason)._export())


async def decide_local_dispute(request: web.Request) -> web.Response:
    """`{"outcome": "won" | "lost"}`: the bank's decision; `charge.dispute.closed` sent."""
    dispute = _find(Dispute, request.match_info["id"], "dispute")
    body = await _json_body(request)
    _only(body, ("outcome",))
    outcome = _text(body, "outcome", required=True, choices=("won", "lost")) or ""
    if dispute.status not in _OPEN:
        raise _error(f"Dispute {dispute.id} is already closed ({dispute.status}).")
    _close_dispute(dispute, outcome)
    return server.json_response(dispute._export())


async def retrieve_dispute(request: web.Request) -> web.Response:
    params = _query(request)
    expand = _expand(params)
    _only(params, ())
    return server.json_response(_find(Dispute, request.match_info["id"], "dispute")._export(expand=expand))


async def list_disputes(request: web.Request) -> web.Response:
    params = _query(request)
    expand = _expand(params)
    _only(params, ("charge", "payment_intent", "created", "limit", "starting_after", "ending_before"))
    charge, intent = _text(params, "charge"), _text(params, "payment_intent")
    created = _created_filter(params)
    disputes = [
        dispute
        for dispute in _newest_first("dispute")
        if (charge is None or dispute.charge == charge)
        and (intent is None or dispute.payment_intent == intent)
        and created(dispute.created)
    ]
    return server.json_response(_page("/v1/disputes", disputes, params, expand))


async def update_dispute(request: web.Request) -> web.Response:
    """Evidence staged (`submit=false`) or submitted (the default, as Stripe's): then `under_review`."""
    dispute = _find(Dispute, request.match_info["id"], "dispute")
    params = await _form(request)
    expand = _expand(params)
    _only(params, ("evidence", "metadata", "submit"))
    if dispute.status not in ("warning_needs_response", "needs_response"):
        raise _error(f"This dispute is {dispute.status}: its evidence can no longer be changed.")
    evidence = _object(params, "evidence")
    _only(evidence, _EVIDENCE)
    submit = _boolean(params.get("submit", True), "submit")
    previous = copy.deepcopy(
        {
            "evidence": dispute.evidence,
            "evidence_details": dispute.evidence_details,
            "metadata": dispute.metadata,
            "status": dispute.status,
        }
    )
    dispute.evidence = {**dispute.evidence, **{name: _text(evidence, name) for name in evidence}}
    dispute.metadata = _metadata(params.get("metadata"), dispute.metadata)
    has_evidence = any(value is not None for value in dispute.evidence.values())
    details = {**dispute.evidence_details, "has_evidence": has_evidence}
    if submit and has_evidence:
        details["submission_count"] += 1
        details["past_due"] = now() > details["due_by"]
        dispute.status = "under_review"
    dispute.evidence_details = details
    changed = {name: value for name, value in previous.items() if getattr(dispute, name) != value}
    if changed:
        emit("charge.dispute.updated", dispute, previous=changed)
    return server.json_response(dispute._export(expand=expand))


async def accept_dispute(request: web.Request) -> web.Response:
    """The platform accepts the dispute (Stripe's `close`): lost, `charge.dispute.closed` sent."""
    dispute = _find(Dispute, request.match_info["id"], "dispute")
    params = await _form(request)
    expand = _expand(params)
    _only(params, ())
    if dispute.status not in ("warning_needs_response", "needs_response"):
        raise _error(f"This dispute is {dispute.status} and can no longer be closed.")
    _close_dispute(dispute, "lost")
    return server.json_response(dispute._export(expand=expand))


# -- PaymentIntents: cancellation, expiry of holds ------------------------------------------------

_CANCELABLE = ("requires_payment_method", "requires_capture", "requires_confirmation", "requires_action")
_INTENT_ACTION = re.compile(r"^/v1/payment_intents/([^/]+)/(capture|cancel)$")


def _cancel_intent(intent: Any, reason: str | None) -> None:
    intent._canceled = True
    intent.next_action = None
    intent._cancellation_reason = reason
    intent._canceled_at = now()
    emit("payment_intent.canceled", intent)


def expire_holds() -> list[str]:
    """Cancel, as Stripe does, every hold (`requires_capture`) made more than 7 days before now."""
    deadline = now() - HOLD_EXPIRY_S
    expired = [
        intent
        for key, intent in list(resources.store.items())
        if key.startswith("payment_intent:") and intent.created < deadline and intent.status == "requires_capture"
    ]
    for intent in expired:
        _cancel_intent(intent, "automatic")
    if expired:
        _dump()
    return [intent.id for intent in expired]


def _unexpected_state(intent: Any, action: str, allowed: Iterable[str]) -> UserError:
    statuses = ", ".join(allowed)
    if action == "capture":
        message = (
            f"This PaymentIntent could not be captured because it has a status of {intent.status}. Only a "
            f"PaymentIntent with one of the following statuses may be captured: {statuses}."
        )
    else:
        message = (
            f"You cannot cancel this PaymentIntent because it has a status of {intent.status}. Only a "
            f"PaymentIntent with one of the following statuses may be canceled: {statuses}."
        )
    return _error(message, code="payment_intent_unexpected_state", payment_intent=intent._export())


async def _intent_action(request: web.Request, handler: Any, intent_id: str, action: str) -> web.StreamResponse:
    intent = resources.store.get(f"payment_intent:{intent_id}")
    if intent is None:
        raise _missing("payment_intent", intent_id, "intent", 404)
    if action == "capture":
        if intent.status != "requires_capture":
            raise _unexpected_state(intent, "capture", ("requires_capture",))
        return await handler(request)
    params = await _form(request)
    expand = _expand(params)
    _only(params, ("cancellation_reason",))
    reason = _text(
        params, "cancellation_reason", choices=("duplicate", "fraudulent", "requested_by_customer", "abandoned")
    )
    if intent.status not in _CANCELABLE:
        raise _unexpected_state(intent, "cancel", _CANCELABLE)
    _cancel_intent(intent, reason)
    return server.json_response(intent._export(expand=expand))


@web.middleware
async def gateway_rules(request: web.Request, handler: Any) -> web.StreamResponse:
    """Innermost: holds expired before any /v1 answer; Stripe's cancel and capture state rules."""
    if not request.path.startswith("/v1/"):
        return await handler(request)
    if request.headers.get("Stripe-Account"):
        raise _error(
            "The local gateway does not act as a connected account (Stripe-Account header): not emulated.",
            param="Stripe-Account",
        )
    expire_holds()
    action = _INTENT_ACTION.match(request.path)
    if action and request.method == "POST":
        return await _intent_action(request, handler, action.group(1), action.group(2))
    return await handler(request)


@web.middleware
async def local_routes(request: web.Request, handler: Any) -> web.StreamResponse:
    """Outermost: /_local/ (the onboarding page, the control endpoints) needs no API key, as
    Stripe-hosted pages and localstripe's /_config/ need none; errors answered as Stripe's."""
    if not request.path.startswith("/_local/"):
        return await handler(request)
    try:
        return await request.match_info.handler(request)
    except UserError as exc:
        return exc.to_response()
    finally:
        if request.method == "POST":
            _dump()


async def _json_body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise _error("The body is not JSON.") from None
    if not isinstance(body, dict):
        raise _error("The body is not a JSON object.")
    return body


async def clock(request: web.Request) -> web.Response:
    """GET: `{"now", "offset_s"}`; POST `{"advance_s": n}`: moved forward, the same and `canceled`: the holds
    that expired with the move."""
    answer: dict[str, Any] = {}
    if request.method == "POST":
        body = await _json_body(request)
        _only(body, ("advance_s",))
        seconds = body.get("advance_s")
        if not isinstance(seconds, int) or isinstance(seconds, bool) or seconds < 0:
            raise _error(
                "`advance_s` must be a whole number of seconds, 0 or more: the clock only moves forward.",
                param="advance_s",
            )
        answer["canceled"] = advance_clock(seconds)
    return server.json_response({"now": now(), "offset_s": offset_s(), **answer})


# -- wiring ---------------------------------------------------------------------------------------


def _patch_localstripe() -> None:
    """What the upstream objects need: the gateway's clock, our delivery, the fields Stripe has."""
    resources.time = _ShiftedTime()
    resources.schedule_webhook = schedule
    webhooks.schedule_webhook = schedule
    intent = resources.PaymentIntent
    intent.cancellation_reason = property(lambda self: getattr(self, "_cancellation_reason", None))
    intent.canceled_at = property(lambda self: getattr(self, "_canceled_at", None))
    resources.Charge.disputed = property(lambda self: bool(getattr(self, "_dispute", None)))

    canonical = resources.PaymentMethod._try_get_canonical_test_article

    def test_article(cls: Any, id_: str) -> Any:
        if id_ == "pm_card_createDispute":
            return resources.PaymentMethod(
                type="card", card={"number": _DISPUTE_CARD, "exp_month": "12", "exp_year": "2030", "cvc": "123"}
            )
        return canonical(id_)

    resources.PaymentMethod._try_get_canonical_test_article = classmethod(test_article)
    trigger = resources.Charge._trigger_payment

    def trigger_payment(self: Any, on_success: Any = None) -> None:
        trigger(self, on_success)
        method = resources.store.get(f"payment_method:{self.payment_method}")
        if (
            self.status == "succeeded"
            and self.captured
            and self.payment_intent
            and method is not None
            and getattr(method, "_card_number", None) == _DISPUTE_CARD
        ):
            try:
                open_dispute(self.payment_intent)
            except UserError:
                log.warning("no dispute opened for charge %s", self.id)

    resources.Charge._trigger_payment = trigger_payment


def install(
    app: web.Application, *, base_url: str, connect_webhook: tuple[str, str] | None = None, delay_s: float = 1.0
) -> None:
    """Add all of the above to localstripe's `server.app`, before it starts."""
    _settings.base_url = base_url.rstrip("/")
    _settings.delay_s = delay_s
    _settings.connect = (
        [Endpoint(connect_webhook[0], connect_webhook[1], frozenset(CONNECT_EVENTS))] if connect_webhook else []
    )
    _patch_localstripe()
    app.middlewares.insert(0, local_routes)
    app.middlewares.append(gateway_rules)
    app.router.add_routes(
        [
            web.post("/v1/accounts", create_account),
            web.get("/v1/accounts", list_accounts),
            web.get("/v1/accounts/{id}", retrieve_account),
            web.post("/v1/accounts/{id}", update_account),
            web.delete("/v1/accounts/{id}", delete_account),
            web.post("/v1/account_links", create_account_link),
            web.post("/v1/transfers", create_transfer),
            web.get("/v1/transfers", list_transfers),
            web.get("/v1/transfers/{id}", retrieve_transfer),
            web.post("/v1/transfers/{id}", update_transfer),
            web.post("/v1/transfers/{id}/reversals", create_reversal),
            web.get("/v1/transfers/{id}/reversals", list_reversals),
            web.get("/v1/transfers/{transfer}/reversals/{id}", retrieve_reversal),
            web.get("/v1/disputes", list_disputes),
            web.get("/v1/disputes/{id}", retrieve_dispute),
            web.post("/v1/disputes/{id}", update_dispute),
            web.post("/v1/disputes/{id}/close", accept_dispute),
            web.get("/_local/connect/onboarding/{token}", onboarding_page),
            web.post("/_local/connect/onboarding/{token}", onboarding_submit),
            web.post("/_local/transfers/fail_next", fail_next),
            web.post("/_local/disputes", create_local_dispute),
            web.post("/_local/disputes/{id}/close", decide_local_dispute),
            web.get("/_local/clock", clock),
            web.post("/_local/clock", clock),
        ]
    )
