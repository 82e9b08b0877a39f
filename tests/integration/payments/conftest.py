"""The payments tests book and walk as the bookings tests do: the same callers (an owner, a
verified walker available every day, an admin) and the owner's saved card; and a walker's
payouts onboarding as the walker does it: the link from the API, the gateway's page read and its
form posted over real HTTP, and the gateway's signed `account.updated` delivered to our Connect
webhook as the gateway sent it."""

from __future__ import annotations

import html
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

import pytest

from tests.conftest import Dependencies
from tests.gateway_events import CONNECT_PATH, Delivery, GatewayEvents
from tests.integration.bookings.conftest import admin, card, owner, walker
from tests.integration.conftest import Answer, Api
from tests.integration.marketplace.conftest import Caller, rows

__all__ = ["admin", "card", "owner", "walker"]

CONNECT_WEBHOOK = "/v1/payments/connect/webhook"
PLATFORM_WEBHOOK = "/v1/payments/webhook"


@pytest.fixture
def gateway_events(state: Dependencies) -> GatewayEvents:
    if state.gateway_events is None:
        pytest.skip("the gateway is your own (DOGWALK_STRIPE_API_BASE): its events do not come here")
    return state.gateway_events


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # the 303 to the app's return_url is the answer to look at, not a page to fetch


_browser = urllib.request.build_opener(_NoRedirects)


@dataclass(frozen=True)
class Page:
    status: int
    headers: dict[str, str]
    body: str


def http(method: str, url: str, form: dict[str, str] | None = None) -> Page:
    """One real HTTP request (no redirect followed)."""
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - the local gateway
    try:
        with _browser.open(request, timeout=10) as answer:
            return Page(answer.status, dict(answer.headers), answer.read().decode())
    except urllib.error.HTTPError as answer:
        return Page(answer.code, dict(answer.headers), answer.read().decode())


def start_onboarding(api: Api, walker: Caller) -> dict[str, str]:
    answer = api.post("/v1/walkers/me/payouts/onboarding", token=walker.token)
    assert answer.status == 200, answer.body
    link: dict[str, str] = answer.json()
    return link


def submit_onboarding(url: str, action: str = "complete") -> Page:
    """What the walker does on the gateway's onboarding page: open it, press a button."""
    page = http("GET", url)
    assert page.status == 200, page.body
    form = re.search(r'<form method="post" action="([^"]+)">', page.body)
    session = re.search(r'name="session" value="([^"]*)"', page.body)
    assert form and session, page.body
    target = urllib.parse.urljoin(url, html.unescape(form.group(1)))
    return http("POST", target, {"session": html.unescape(session.group(1)), "action": action})


def account_of(database_url: str, walker: Caller) -> str:
    found = rows(database_url, "SELECT account_id FROM connected_accounts WHERE walker_id = %s", walker.id)
    assert found, "the walker has no connected account"
    return str(found[0]["account_id"])


def deliver(api: Api, delivery: Delivery, path: str = CONNECT_WEBHOOK) -> Answer:
    """The gateway's delivery, body and signature as they came, to one of our webhooks."""
    headers = {"Content-Type": "application/json; charset=utf-8", "Stripe-Signature": delivery.signature}
    return api.post(path, raw=delivery.payload.encode(), headers=headers)


def onboard(api: Api, state: Dependencies, events: GatewayEvents, walker: Caller) -> str:
    """The walker onboards through the gateway's page and the gateway's account.updated reaches our
    Connect webhook; the connected account's id."""
    link = start_onboarding(api, walker)
    done = submit_onboarding(link["url"])
    assert done.status == 303, done.body
    account = account_of(state.database_url, walker)
    answer = deliver(api, events.wait_for(CONNECT_PATH, "account.updated", account))
    assert answer.status == 200, answer.body
    assert answer.json()["outcome"] == "account enabled", answer.body
    return account
