"""The bookings service's functions: a walk from its quote and request to its answer, start,
completion, cancellation and review, its changes and weekly series, the expiry of what nobody
answered, and the holds placed 5 days before each walk (and the owner's fix when one fails)."""

from __future__ import annotations

from dogwalk.declarations import (
    ANY_USER,
    CACHE,
    DATABASE,
    EVENTS,
    OWNER,
    PAYMENTS,
    WALKER,
    WEBSOCKET_PUSH,
    Endpoint,
    Schedule,
    Service,
)

SERVICE = Service("bookings", tag="Bookings", uses=frozenset({DATABASE, CACHE}))
# the transitions that tell the other party (an outbox event published right after the commit)
_TELLING = frozenset({DATABASE, CACHE, EVENTS})
# and those that also move money at the payment gateway
_CHARGING = frozenset({DATABASE, CACHE, PAYMENTS, EVENTS})

ENDPOINTS: tuple[Endpoint, ...] = (
    SERVICE.endpoint(
        "quote_booking",
        method="POST",
        path="/v1/bookings/quote",
        roles=OWNER,
        summary="The price of a walk, after every booking rule",
    ),
    SERVICE.endpoint(
        "create_booking",
        method="POST",
        path="/v1/bookings",
        status_code=201,
        roles=OWNER,
        summary="Request a walk (or a weekly series); the price is held on the card",
        idempotent=True,
        timeout_s=30,
        uses=_CHARGING,
    ),
    SERVICE.endpoint(
        "get_booking",
        path="/v1/bookings/{booking_id}",
        roles=ANY_USER,
        summary="A booking, for its owner, its walker or an admin",
    ),
    SERVICE.endpoint(
        "list_bookings",
        path="/v1/bookings",
        roles=OWNER | WALKER,
        summary="Your bookings (as owner or as walker) by start time",
    ),
    SERVICE.endpoint(
        "accept_booking",
        method="POST",
        path="/v1/bookings/{booking_id}/accept",
        roles=WALKER,
        summary="Accept a request (409 booking_conflict if it overlaps an accepted walk)",
        uses=_TELLING,
    ),
    SERVICE.endpoint(
        "decline_booking",
        method="POST",
        path="/v1/bookings/{booking_id}/decline",
        roles=WALKER,
        summary="Decline a request; the hold on the owner's card is released",
        uses=_CHARGING,
    ),
    SERVICE.endpoint(
        "cancel_booking",
        method="POST",
        path="/v1/bookings/{booking_id}/cancel",
        roles=OWNER | WALKER,
        summary="Cancel; refund by the policy (owner: full ≥ 24 h, half 2-24 h, none < 2 h; walker: full)",
        idempotent=True,
        timeout_s=30,
        uses=_CHARGING,
    ),
    SERVICE.endpoint(
        "start_booking",
        method="POST",
        path="/v1/bookings/{booking_id}/start",
        roles=WALKER,
        summary="Start the walk (from 15 minutes before); its id and MQTT topic",
        uses=_TELLING,
    ),
    SERVICE.endpoint(
        "complete_booking",
        method="POST",
        path="/v1/bookings/{booking_id}/complete",
        roles=WALKER,
        summary="End the walk: the payment is captured and the ledger posted",
        idempotent=True,
        timeout_s=30,
        uses=_CHARGING | {WEBSOCKET_PUSH},
    ),
    SERVICE.endpoint(
        "change_booking_payment_method",
        method="POST",
        path="/v1/bookings/{booking_id}/payment-method",
        roles=OWNER,
        summary="Give another saved card for a booking whose payment failed (or is still to be held); held at once",
        idempotent=True,
        timeout_s=30,
        uses=_CHARGING,
    ),
    SERVICE.endpoint(
        "propose_booking_change",
        method="POST",
        path="/v1/bookings/{booking_id}/changes",
        status_code=201,
        roles=OWNER,
        summary="Change a walk's start, duration or dogs: a request at once (200 booking), an accepted walk"
        " by a proposal its walker answers (201 change)",
        idempotent=True,
        timeout_s=30,
        uses=_CHARGING,
    ),
    SERVICE.endpoint(
        "accept_booking_change",
        method="POST",
        path="/v1/bookings/{booking_id}/changes/{change_id}/accept",
        roles=WALKER,
        summary="Accept the owner's change: the new time and price, the hold adjusted (409 booking_conflict)",
        idempotent=True,
        timeout_s=30,
        uses=_CHARGING,
    ),
    SERVICE.endpoint(
        "decline_booking_change",
        method="POST",
        path="/v1/bookings/{booking_id}/changes/{change_id}/decline",
        roles=WALKER,
        summary="Decline the owner's change; the booking stays as it is",
        idempotent=True,
    ),
    SERVICE.endpoint(
        "get_series",
        path="/v1/series/{series_id}",
        roles=OWNER | WALKER,
        summary="A weekly series and its walks, for its owner or its walker",
    ),
    SERVICE.endpoint(
        "cancel_series",
        method="POST",
        path="/v1/series/{series_id}/cancel",
        roles=OWNER | WALKER,
        summary="End a series: every walk from `from` (default now) on cancelled by the policy, each with its refund",
        idempotent=True,
        timeout_s=60,
        uses=_CHARGING,
    ),
    SERVICE.endpoint(
        "review_booking",
        method="POST",
        path="/v1/bookings/{booking_id}/review",
        status_code=201,
        roles=OWNER,
        summary="Review a completed walk, once",
        uses=_TELLING,
    ),
)

SCHEDULES: tuple[Schedule, ...] = (
    # requests not accepted by their start expire; holds of walks that ended uncharged are released
    SERVICE.schedule("expire_bookings", every_s=300, timeout_s=120, uses=frozenset({DATABASE, PAYMENTS})),
    # each walk's hold once it is 5 days away (at the latest 4 days before: a day of runs to ride out
    # a gateway outage); failed payments not fixed by their deadline cancel their booking
    SERVICE.schedule("place_due_holds", every_s=900, timeout_s=300, uses=frozenset({DATABASE, PAYMENTS})),
    # walks not started 15 minutes after their start: `walk.late` to both; 60 minutes after: cancelled
    # as a no-show, the hold released (the relay publishes the events it records)
    SERVICE.schedule("handle_no_shows", every_s=60, timeout_s=50, uses=frozenset({DATABASE, PAYMENTS})),
)
