"""The local payment gateway's Connect, disputes, hold expiry and clock (local.stripe_connect), through
the real stripe SDK and real HTTP: one gateway for the module, whose signed webhooks a small HTTP
receiver records and the SDK verifies. No database, no AWS: this module talks to its own gateway only."""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import stripe

from local.services import LocalStripe, free_port

PLATFORM_SECRET = "whsec_local_platform_tests"
CONNECT_SECRET = "whsec_local_connect_tests"
EXPRESS = {
    "stripe_dashboard": {"type": "express"},
    "fees": {"payer": "application"},
    "losses": {"payments": "application"},
    "requirement_collection": "stripe",
}
WEEK_S = 7 * 24 * 3600


@pytest.fixture(autouse=True)
def state() -> None:
    """In place of the integration suite's clean PostgreSQL and Redis, which this module never uses."""


@pytest.fixture(autouse=True)
def aws() -> None:
    """In place of the integration suite's moto and signing key: nothing here calls AWS."""


@dataclass
class Delivery:
    path: str
    status: int
    signature: str
    payload: str

    @property
    def event(self) -> dict[str, Any]:
        return dict(json.loads(self.payload))


class Receiver:
    """Webhook endpoints on 127.0.0.1: records every delivery; fails the first attempt of an event
    whose object's metadata says `webhook: fail-once`."""

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self.changed = threading.Condition()
        self.failed_once: set[str] = set()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                payload = self.rfile.read(int(self.headers["Content-Length"])).decode()
                event = json.loads(payload)
                status = 200
                fail_once = (event["data"]["object"].get("metadata") or {}).get("webhook") == "fail-once"
                if fail_once and event["id"] not in receiver.failed_once:
                    receiver.failed_once.add(event["id"])
                    status = 500
                self.send_response(status)
                self.end_headers()
                with receiver.changed:
                    receiver.deliveries.append(Delivery(self.path, status, self.headers["Stripe-Signature"], payload))
                    receiver.changed.notify_all()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def wait_for(self, path: str, kind: str, about: str, timeout_s: float = 10) -> Delivery:
        """The first successful delivery to `path` of a `kind` event about the object `about`."""

        def found() -> Delivery | None:
            for delivery in self.deliveries:
                event = delivery.event
                if (delivery.path, delivery.status, event["type"]) == (path, 200, kind) and (
                    event["data"]["object"].get("id") == about
                ):
                    return delivery
            return None

        with self.changed:
            self.changed.wait_for(lambda: found() is not None, timeout_s)
            delivery = found()
        assert delivery is not None, f"no {kind} about {about} delivered to {path}"
        return delivery

    def attempts(self, event_id: str) -> list[Delivery]:
        with self.changed:
            return [delivery for delivery in self.deliveries if delivery.event["id"] == event_id]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    endpoints = Receiver()
    yield endpoints
    endpoints.close()


def start_gateway(receiver: Receiver, state_file: Path | None = None) -> LocalStripe:
    gateway = LocalStripe(
        free_port(),
        state_file,
        webhook=(receiver.url("/platform"), PLATFORM_SECRET),
        connect_webhook=(receiver.url("/connect"), CONNECT_SECRET),
        webhook_delay_s=0.05,
    )
    gateway.start()
    return gateway


@pytest.fixture(scope="module")
def gateway(receiver: Receiver) -> Iterator[LocalStripe]:
    started = start_gateway(receiver)
    yield started
    started.stop()


def client_of(gateway: LocalStripe, retries: int = 0) -> stripe.StripeClient:
    return stripe.StripeClient("sk_test_connect", base_addresses={"api": gateway.url}, max_network_retries=retries)


@pytest.fixture(scope="module")
def client(gateway: LocalStripe) -> stripe.StripeClient:
    return client_of(gateway)


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_browser = urllib.request.build_opener(_NoRedirects)


def browse(method: str, url: str, *, json_body: Any = None, form: dict[str, str] | None = None) -> Reply:
    """One request, redirects not followed (a browser's first hop)."""
    data = None
    request = urllib.request.Request(url, method=method)  # noqa: S310 - loopback only
    if json_body is not None:
        data = json.dumps(json_body).encode()
        request.add_header("Content-Type", "application/json")
    elif form is not None:
        data = urllib.parse.urlencode(form).encode()
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with _browser.open(request, data=data, timeout=10) as answer:
            return Reply(answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read())
    except urllib.error.HTTPError as error:
        return Reply(error.code, {k.lower(): v for k, v in error.headers.items()}, error.read())


def verified(delivery: Delivery, secret: str) -> stripe.Event:
    return stripe.Webhook.construct_event(delivery.payload, delivery.signature, secret)


def express_account(client: stripe.StripeClient, **extra: Any) -> stripe.Account:
    params: dict[str, Any] = {
        "controller": EXPRESS,
        "country": "US",
        "email": "walker@example.com",
        "capabilities": {"transfers": {"requested": True}},
        **extra,
    }
    return client.v1.accounts.create(params=params)


def account_link(client: stripe.StripeClient, account_id: str) -> stripe.AccountLink:
    return client.v1.account_links.create(
        params={
            "account": account_id,
            "refresh_url": "https://walkers.example/connect/refresh?x=1",
            "return_url": "https://walkers.example/connect/return",
            "type": "account_onboarding",
        }
    )


def visit(url: str) -> tuple[Reply, str]:
    """GET the onboarding page; it and its form's session."""
    page = browse("GET", url)
    assert page.status == 200, page.body
    session = re.search(rb'name="session" value="([^"]+)"', page.body)
    assert session is not None, page.body
    return page, session.group(1).decode()


def onboard(client: stripe.StripeClient, account_id: str) -> None:
    link = account_link(client, account_id)
    _, session = visit(link.url)
    done = browse("POST", link.url, form={"session": session, "action": "complete"})
    assert done.status == 303, done.body


def control(gateway: LocalStripe, method: str, path: str, body: Any = None) -> Reply:
    return browse(method, f"{gateway.url}{path}", json_body=body)


def advance(gateway: LocalStripe, seconds: int) -> dict[str, Any]:
    answer = control(gateway, "POST", "/_local/clock", {"advance_s": seconds})
    assert answer.status == 200, answer.body
    return dict(answer.json())


def hold(client: stripe.StripeClient, amount: int = 2500) -> stripe.PaymentIntent:
    return client.v1.payment_intents.create(
        params={
            "amount": amount,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "capture_method": "manual",
            "confirm": True,
        }
    )


def charge(client: stripe.StripeClient, amount: int = 3000, method: str = "pm_card_visa") -> stripe.PaymentIntent:
    return client.v1.payment_intents.create(
        params={"amount": amount, "currency": "usd", "payment_method": method, "confirm": True}
    )


def refused(call: Callable[[], Any], error: type[stripe.StripeError] = stripe.InvalidRequestError) -> Any:
    with pytest.raises(error) as caught:
        call()
    return caught.value


# -- accounts -------------------------------------------------------------------------------------


def test_a_new_express_account_is_created_as_stripe_creates_one(client: stripe.StripeClient) -> None:
    account = express_account(client, business_type="individual", metadata={"walker_id": "w-1", "tier": "new"})

    assert account.id.startswith("acct_")
    assert (account.object, account.type, account.country, account.default_currency) == (
        "account",
        "express",
        "US",
        "usd",
    )
    assert account.controller.stripe_dashboard.type == "express"
    assert (account.controller.fees.payer, account.controller.losses.payments) == ("application", "application")
    assert account.controller.requirement_collection == "stripe"
    assert (account.charges_enabled, account.payouts_enabled, account.details_submitted) == (False, False, False)
    assert account.capabilities.transfers == "inactive"
    due = account.requirements.currently_due
    assert {"external_account", "individual.dob.day", "tos_acceptance.date"} <= set(due)
    assert account.requirements.past_due == due
    assert account.requirements.disabled_reason == "requirements.past_due"
    assert account.metadata.to_dict() == {"walker_id": "w-1", "tier": "new"}
    assert client.v1.accounts.retrieve(account.id).email == "walker@example.com"

    updated = client.v1.accounts.update(account.id, params={"metadata": {"tier": "", "city": "Lyon"}})
    assert updated.metadata.to_dict() == {"walker_id": "w-1", "city": "Lyon"}  # an empty value unsets the key
    newest = client.v1.accounts.list(params={"limit": 1})
    assert [listed.id for listed in newest.data] == [account.id] and newest.has_more in (True, False)

    unknown = refused(lambda: client.v1.accounts.create(params={"colour": "blue"}))
    assert (unknown.http_status, unknown.code, unknown.param) == (400, "parameter_unknown", "colour")
    both = refused(lambda: client.v1.accounts.create(params={"type": "express", "controller": EXPRESS}))
    assert both.param == "controller"
    missing = refused(lambda: client.v1.accounts.retrieve("acct_nothere"))
    assert (missing.http_status, missing.code) == (404, "resource_missing")


# -- account links and onboarding -----------------------------------------------------------------


def test_onboarding_through_an_account_link(
    client: stripe.StripeClient, gateway: LocalStripe, receiver: Receiver
) -> None:
    account = express_account(client, email="o'hara+<walker>@example.com")
    link = account_link(client, account.id)

    assert link.object == "account_link"
    assert link.expires_at == link.created + 300
    assert link.url.startswith(f"{gateway.url}/_local/connect/onboarding/")

    page, session = visit(link.url)
    assert page.headers["content-type"].startswith("text/html")
    assert account.id.encode() in page.body
    assert b"o&#x27;hara+&lt;walker&gt;@example.com" in page.body and b"<walker>" not in page.body
    assert b"Complete onboarding" in page.body and b"Leave for now" in page.body

    done = browse("POST", link.url, form={"session": session, "action": "complete"})
    assert (done.status, done.headers["location"]) == (303, "https://walkers.example/connect/return")
    again = browse("GET", link.url)  # single use
    assert again.status in (302, 303) and again.headers["location"] == "https://walkers.example/connect/refresh?x=1"
    replayed = browse("POST", link.url, form={"session": session, "action": "complete"})
    assert replayed.headers["location"] == "https://walkers.example/connect/refresh?x=1"

    onboarded = client.v1.accounts.retrieve(account.id)
    assert (onboarded.details_submitted, onboarded.charges_enabled, onboarded.payouts_enabled) == (True, True, True)
    assert onboarded.capabilities.transfers == "active"
    assert onboarded.requirements.currently_due == [] and onboarded.requirements.disabled_reason is None

    delivery = receiver.wait_for("/connect", "account.updated", account.id)
    event = verified(delivery, CONNECT_SECRET)
    assert (event.type, event.account, event.livemode) == ("account.updated", account.id, False)
    assert event.id.startswith("evt_") and event.api_version
    assert event.data.object["payouts_enabled"] is True
    assert event.data.previous_attributes["payouts_enabled"] is False
    with pytest.raises(stripe.SignatureVerificationError):
        verified(delivery, PLATFORM_SECRET)
    assert not [d for d in receiver.deliveries if d.path == "/platform" and d.event["type"] == "account.updated"]
    listed = client.v1.events.list(params={"type": "account.updated"})
    assert event.id in [listed_event.id for listed_event in listed.data]


def test_leaving_changes_nothing_and_an_expired_link_goes_to_refresh_url(
    client: stripe.StripeClient, gateway: LocalStripe
) -> None:
    account = express_account(client)
    link = account_link(client, account.id)
    _, session = visit(link.url)

    left = browse("POST", link.url, form={"session": session, "action": "leave"})

    # Stripe returns the user to return_url "upon leaving or completing": the account says which
    assert (left.status, left.headers["location"]) == (303, "https://walkers.example/connect/return")
    unchanged = client.v1.accounts.retrieve(account.id)
    assert (unchanged.details_submitted, unchanged.payouts_enabled) == (False, False)
    assert unchanged.capabilities.transfers == "inactive"

    late = account_link(client, account.id)
    advance(gateway, 301)
    expired = browse("GET", late.url)
    assert expired.status in (302, 303) and expired.headers["location"] == "https://walkers.example/connect/refresh?x=1"
    assert browse("GET", f"{gateway.url}/_local/connect/onboarding/not-a-link").status == 404


# -- transfers ------------------------------------------------------------------------------------


def test_transfers_idempotency_listing_and_reversals(client: stripe.StripeClient, receiver: Receiver) -> None:
    account = express_account(client)
    onboard(client, account.id)
    params: dict[str, Any] = {
        "amount": 1000,
        "currency": "usd",
        "destination": account.id,
        "transfer_group": f"payout-{account.id}",
        "metadata": {"payout_id": "p-1"},
        "description": "week 12",
    }

    transfer = client.v1.transfers.create(params=params, options={"idempotency_key": f"payout:{account.id}"})
    replayed = client.v1.transfers.create(params=params, options={"idempotency_key": f"payout:{account.id}"})

    assert transfer.id.startswith("tr_") and replayed.id == transfer.id
    assert (transfer.object, transfer.amount, transfer.amount_reversed, transfer.reversed) == (
        "transfer",
        1000,
        0,
        False,
    )
    assert (transfer.destination, transfer.livemode, transfer.metadata.to_dict()) == (
        account.id,
        False,
        {"payout_id": "p-1"},
    )
    assert transfer.reversals.object == "list" and transfer.reversals.data == []
    other = {**params, "amount": 999}
    refused(lambda: client.v1.transfers.create(params=other, options={"idempotency_key": f"payout:{account.id}"}),
            stripe.IdempotencyError)  # fmt: skip
    second = client.v1.transfers.create(params={**params, "transfer_group": "other"})
    by_destination = client.v1.transfers.list(params={"destination": account.id})
    assert [listed.id for listed in by_destination.data] == [second.id, transfer.id]  # newest first
    by_group = client.v1.transfers.list(params={"transfer_group": f"payout-{account.id}"})
    assert [listed.id for listed in by_group.data] == [transfer.id]
    page = client.v1.transfers.list(params={"destination": account.id, "limit": 1, "starting_after": second.id})
    assert [listed.id for listed in page.data] == [transfer.id] and page.has_more is False
    assert client.v1.transfers.retrieve(transfer.id).description == "week 12"

    partial = client.v1.transfers.reversals.create(transfer.id, params={"amount": 400},
                                                   options={"idempotency_key": f"reverse:{transfer.id}:1"})  # fmt: skip
    again = client.v1.transfers.reversals.create(transfer.id, params={"amount": 400},
                                                 options={"idempotency_key": f"reverse:{transfer.id}:1"})  # fmt: skip
    assert (partial.object, partial.amount, partial.transfer, again.id) == (
        "transfer_reversal",
        400,
        transfer.id,
        partial.id,
    )
    after_partial = client.v1.transfers.retrieve(transfer.id)
    assert (after_partial.amount_reversed, after_partial.reversed) == (400, False)
    rest = client.v1.transfers.reversals.create(transfer.id)
    assert rest.amount == 600
    reversed_ = client.v1.transfers.retrieve(transfer.id)
    assert (reversed_.amount_reversed, reversed_.reversed) == (1000, True)
    assert [r.id for r in client.v1.transfers.reversals.list(transfer.id).data] == [rest.id, partial.id]
    refused(lambda: client.v1.transfers.reversals.create(transfer.id))

    delivered = receiver.wait_for("/platform", "transfer.reversed", transfer.id)
    event = verified(delivered, PLATFORM_SECRET)
    assert event.type == "transfer.reversed" and "account" not in event
    assert event.data.object["amount_reversed"] in (400, 1000)


def test_transfers_are_refused_to_unknown_and_not_yet_enabled_accounts(client: stripe.StripeClient) -> None:
    pending = express_account(client)
    base = {"amount": 500, "currency": "usd"}

    unknown = refused(lambda: client.v1.transfers.create(params={**base, "destination": "acct_nosuchaccount"}))
    not_enabled = refused(lambda: client.v1.transfers.create(params={**base, "destination": pending.id}))

    assert (unknown.http_status, unknown.code, unknown.param) == (400, "resource_missing", "destination")
    assert (not_enabled.http_status, not_enabled.code) == (400, "insufficient_capabilities_for_transfer")
    assert client.v1.transfers.list(params={"destination": pending.id}).data == []


def test_fail_next_makes_transfers_fail_as_the_gateway_would(client: stripe.StripeClient, gateway: LocalStripe) -> None:
    account = express_account(client)
    onboard(client, account.id)
    params = {"amount": 700, "currency": "usd", "destination": account.id}

    assert control(gateway, "POST", "/_local/transfers/fail_next", {"count": 1}).json() == {
        "fail_next": 1,
        "status": 400,
    }
    declined = refused(lambda: client.v1.transfers.create(params=params))
    made = client.v1.transfers.create(params=params)

    assert (declined.http_status, declined.code) == (400, "balance_insufficient")
    assert made.id.startswith("tr_")
    control(gateway, "POST", "/_local/transfers/fail_next", {"count": 1, "status": 500})
    outage = refused(lambda: client.v1.transfers.create(params=params), stripe.APIError)
    assert outage.http_status == 500
    control(gateway, "POST", "/_local/transfers/fail_next", {"count": 1, "status": 500})
    retried = client_of(gateway, retries=1).v1.transfers.create(params=params)  # the SDK retries with one key
    listed = client.v1.transfers.list(params={"destination": account.id})
    assert [listed_transfer.id for listed_transfer in listed.data] == [retried.id, made.id]
    assert control(gateway, "POST", "/_local/transfers/fail_next", {"count": 1, "status": 418}).status == 400


# -- holds and the clock --------------------------------------------------------------------------


def test_an_uncaptured_hold_is_canceled_seven_days_after_it_was_made(
    client: stripe.StripeClient, gateway: LocalStripe, receiver: Receiver
) -> None:
    intent = hold(client)
    captured = hold(client)
    client.v1.payment_intents.capture(captured.id)
    assert intent.status == "requires_capture"

    almost = advance(gateway, WEEK_S - 5)
    assert intent.id not in almost["canceled"]
    assert client.v1.payment_intents.retrieve(intent.id).status == "requires_capture"
    moved = advance(gateway, 6)

    assert intent.id in moved["canceled"]
    canceled = client.v1.payment_intents.retrieve(intent.id)
    assert (canceled.status, canceled.cancellation_reason) == ("canceled", "automatic")
    assert canceled.canceled_at is not None and canceled.canceled_at >= intent.created + WEEK_S
    assert client.v1.payment_intents.retrieve(captured.id).status == "succeeded"
    event = verified(receiver.wait_for("/platform", "payment_intent.canceled", intent.id), PLATFORM_SECRET)
    assert event.data.object["cancellation_reason"] == "automatic"
    late = refused(lambda: client.v1.payment_intents.capture(intent.id))
    assert (late.http_status, late.code) == (400, "payment_intent_unexpected_state")
    assert "status of canceled" in (late.user_message or "")

    clock = control(gateway, "GET", "/_local/clock").json()
    assert clock["offset_s"] >= WEEK_S + 1 and abs(clock["now"] - (time.time() + clock["offset_s"])) < 5
    fresh = hold(client)  # made on the moved clock
    assert abs(fresh.created - clock["now"]) < 5
    assert control(gateway, "POST", "/_local/clock", {"advance_s": -1}).status == 400


def test_cancelling_a_hold_sends_payment_intent_canceled(client: stripe.StripeClient, receiver: Receiver) -> None:
    intent = hold(client)

    canceled = client.v1.payment_intents.cancel(intent.id, params={"cancellation_reason": "requested_by_customer"})

    assert (canceled.status, canceled.cancellation_reason) == ("canceled", "requested_by_customer")
    verified(receiver.wait_for("/platform", "payment_intent.canceled", intent.id), PLATFORM_SECRET)
    twice = refused(lambda: client.v1.payment_intents.cancel(intent.id))
    assert twice.code == "payment_intent_unexpected_state"


# -- disputes -------------------------------------------------------------------------------------


def test_a_dispute_opened_and_won(client: stripe.StripeClient, gateway: LocalStripe, receiver: Receiver) -> None:
    paid = charge(client, 3000)

    opened = control(gateway, "POST", "/_local/disputes", {"payment_intent": paid.id, "amount": 2000})

    assert opened.status == 200, opened.body
    dispute = client.v1.disputes.retrieve(opened.json()["id"])
    assert dispute.id.startswith("dp_") and dispute.object == "dispute"
    assert (dispute.amount, dispute.currency, dispute.reason, dispute.status) == (
        2000,
        "usd",
        "fraudulent",
        "needs_response",
    )
    charge_id = paid.latest_charge.id  # localstripe answers latest_charge expanded
    assert (dispute.payment_intent, dispute.charge) == (paid.id, charge_id)
    assert dispute.evidence_details.due_by > dispute.created and dispute.evidence_details.submission_count == 0
    created = verified(receiver.wait_for("/platform", "charge.dispute.created", dispute.id), PLATFORM_SECRET)
    assert created.data.object["status"] == "needs_response"
    assert [d.id for d in client.v1.disputes.list(params={"payment_intent": paid.id}).data] == [dispute.id]
    assert client.v1.charges.retrieve(charge_id).disputed is True
    again = control(gateway, "POST", "/_local/disputes", {"payment_intent": paid.id})
    assert again.status == 400 and again.json()["error"]["type"] == "invalid_request_error"

    won = control(gateway, "POST", f"/_local/disputes/{dispute.id}/close", {"outcome": "won"})

    assert won.json()["status"] == "won"
    closed = verified(receiver.wait_for("/platform", "charge.dispute.closed", dispute.id), PLATFORM_SECRET)
    assert closed.data.object["status"] == "won"
    assert client.v1.disputes.retrieve(dispute.id).status == "won"
    assert control(gateway, "POST", f"/_local/disputes/{dispute.id}/close", {"outcome": "lost"}).status == 400


def test_disputes_need_a_captured_charge_and_the_platform_may_accept_one(
    client: stripe.StripeClient, gateway: LocalStripe, receiver: Receiver
) -> None:
    held = hold(client)
    assert control(gateway, "POST", "/_local/disputes", {"payment_intent": held.id}).status == 400
    assert control(gateway, "POST", "/_local/disputes", {"payment_intent": "pi_nothing"}).status == 400

    disputed = charge(client, 1500, "pm_card_createDispute")  # Stripe's test card: disputed once captured
    (dispute,) = client.v1.disputes.list(params={"payment_intent": disputed.id}).data
    assert (dispute.amount, dispute.reason) == (1500, "fraudulent")
    accepted = client.v1.disputes.close(dispute.id)

    assert accepted.status == "lost"
    verified(receiver.wait_for("/platform", "charge.dispute.closed", dispute.id), PLATFORM_SECRET)


# -- delivery and state ---------------------------------------------------------------------------


def test_a_failed_delivery_is_retried_with_the_same_event(client: stripe.StripeClient, receiver: Receiver) -> None:
    account = express_account(client)
    onboard(client, account.id)

    transfer = client.v1.transfers.create(
        params={"amount": 100, "currency": "usd", "destination": account.id, "metadata": {"webhook": "fail-once"}}
    )

    delivered = receiver.wait_for("/platform", "transfer.created", transfer.id)
    attempts = receiver.attempts(delivered.event["id"])
    assert [attempt.status for attempt in attempts] == [500, 200]
    verified(delivered, PLATFORM_SECRET)


def test_accounts_transfers_disputes_and_the_clock_survive_a_restart(receiver: Receiver, tmp_path: Path) -> None:
    state_file = tmp_path / "localstripe.pickle"
    first = start_gateway(receiver, state_file)
    try:
        client = client_of(first)
        account = express_account(client)
        onboard(client, account.id)
        transfer = client.v1.transfers.create(params={"amount": 800, "currency": "usd", "destination": account.id})
        dispute = control(first, "POST", "/_local/disputes", {"payment_intent": charge(client).id}).json()
        offset = advance(first, 3600)["offset_s"]
    finally:
        first.stop()
    second = start_gateway(receiver, state_file)
    try:
        client = client_of(second)
        assert client.v1.accounts.retrieve(account.id).payouts_enabled is True
        assert client.v1.transfers.retrieve(transfer.id).amount == 800
        assert client.v1.disputes.retrieve(dispute["id"]).status == "needs_response"
        assert control(second, "GET", "/_local/clock").json()["offset_s"] == offset
    finally:
        second.stop()
