"""The bug issue 13 fixed, shown on the payment gateway's own clock: Stripe cancels an uncaptured
PaymentIntent 7 days after it was made, so a hold placed at request time for a walk weeks ahead is
gone by the walk (the capture is refused); holds placed at most 5 days ahead, and placed again when
the gateway's `payment_intent.canceled` arrives, are captured.

A gateway of this module's own (localstripe with our extension), whose clock `POST /_local/clock`
moves forward: the session's shared gateway keeps real time for every other test."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import stripe

from dogwalk.bookings import lifecycle
from dogwalk.config import settings
from local.services import LocalStripe, free_port
from tests.gateway_events import PLATFORM_PATH, PLATFORM_SECRET, GatewayEvents
from tests.integration.bookings.conftest import intent_of, next_weekday_at
from tests.integration.bookings.test_scheduled_holds import book, booking_row, save_card
from tests.integration.conftest import Api
from tests.integration.payments.test_webhooks import deliver

WEEK = 7 * 24 * 3600


@pytest.fixture
def own_gateway(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, GatewayEvents]]:
    """The platform pointed at a gateway of its own, whose signed events this receiver keeps."""
    from dogwalk.payments import gateway

    events = GatewayEvents()
    server = LocalStripe(free_port(), webhook=(events.url(PLATFORM_PATH), PLATFORM_SECRET), webhook_delay_s=0.05)
    url = server.start()
    monkeypatch.setenv("DOGWALK_STRIPE_API_BASE", url)
    settings.cache_clear()
    gateway._client.cache_clear()
    try:
        yield url, events
    finally:
        server.stop()
        settings.cache_clear()
        gateway._client.cache_clear()


def advance(url: str, seconds: int) -> dict[str, Any]:
    request = urllib.request.Request(  # noqa: S310 - the gateway this test started
        f"{url}/_local/clock", data=json.dumps({"advance_s": seconds}).encode(),
        headers={"Content-Type": "application/json"}, method="POST",
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310  # nosec B310
        return dict(json.loads(answer.read()))


def test_a_hold_that_expires_at_the_gateway_is_placed_again_and_the_walk_is_captured(
    api: Api, owner, walker, own_gateway: tuple[str, GatewayEvents]
) -> None:
    url, events = own_gateway
    from dogwalk.payments import gateway

    card = save_card(api, owner, "pm_card_visa")
    start = next_weekday_at(10)  # within 5 days: held at request
    booking = book(api, owner, walker, card, start)
    first = intent_of(booking["id"])

    # the gateway's week passes: Stripe cancels the uncaptured hold and says so
    assert first in advance(url, WEEK + 60)["canceled"]
    expired = gateway._client().v1.payment_intents.retrieve(first)
    assert (expired.status, expired.cancellation_reason) == ("canceled", "automatic")
    # the old bug: what was held at request time for a walk a week or more ahead cannot be captured
    with pytest.raises(stripe.InvalidRequestError):
        gateway._client().v1.payment_intents.capture(first, params={"amount_to_capture": expired.amount})

    canceled = events.wait_for(PLATFORM_PATH, "payment_intent.canceled", first)
    answer = deliver(api, canceled.payload, canceled.signature)

    assert answer.status == 200 and answer.json()["outcome"] == "hold placed again", answer.body
    again = booking_row(booking["id"])
    assert again["payment_status"] == "authorized" and again["payment_intent_id"] != first
    assert api.post(f"/v1/bookings/{booking['id']}/accept", token=walker.token).status == 200
    lifecycle.start_walk(booking["id"], walker.id, now=start)
    completed = api.post(f"/v1/bookings/{booking['id']}/complete", token=walker.token)
    assert completed.status == 200 and completed.json()["payment"] == {"status": "captured"}, completed.body
    assert gateway._client().v1.payment_intents.retrieve(again["payment_intent_id"]).status == "succeeded"
    assert booking_row(booking["id"])["captured_cents"] == booking["price"]["total_cents"]
