"""The payments service's functions: saved cards, a booking's money, tips, the gateway's webhook,
the ledger's trial balance, walkers' earnings and their weekly payout."""

from __future__ import annotations

from dogwalk.declarations import (
    ADMIN,
    ANY_USER,
    CACHE,
    DATABASE,
    EVENTS,
    OWNER,
    PAYMENTS,
    WALKER,
    Endpoint,
    Schedule,
    Service,
)

SERVICE = Service("payments", tag="Payments", uses=frozenset({DATABASE, CACHE}))

ENDPOINTS: tuple[Endpoint, ...] = (
    SERVICE.endpoint(
        "get_booking_payment",
        path="/v1/bookings/{booking_id}/payment",
        roles=ANY_USER,
        summary="Where a booking's money stands: held, captured, refunded, tipped",
    ),
    SERVICE.endpoint(
        "tip_booking",
        method="POST",
        path="/v1/bookings/{booking_id}/tip",
        status_code=201,
        roles=OWNER,
        summary="Tip the walker of a completed walk, once; charged at once, all to the walker",
        tag="Bookings",
        idempotent=True,
        timeout_s=30,
        uses=frozenset({DATABASE, CACHE, PAYMENTS, EVENTS}),
    ),
    SERVICE.endpoint(
        "create_payment_method",
        method="POST",
        path="/v1/payments/methods",
        status_code=201,
        roles=OWNER,
        summary="Save a card the app tokenized with the gateway",
        idempotent=True,
        uses=frozenset({DATABASE, CACHE, PAYMENTS}),
    ),
    SERVICE.endpoint(
        "list_payment_methods", path="/v1/payments/methods", roles=OWNER, summary="Your saved payment methods"
    ),
    SERVICE.endpoint(
        "receive_payment_webhook",
        method="POST",
        path="/v1/payments/webhook",
        summary="The payment gateway's signed events; each applied once",
        uses=frozenset({DATABASE, PAYMENTS, EVENTS}),
    ),
    SERVICE.endpoint(
        "get_earnings",
        path="/v1/walkers/me/earnings",
        roles=WALKER,
        summary="Your earnings: pending, available, paid out, and the payouts",
        tag="Walkers",
    ),
    SERVICE.endpoint(
        "get_trial_balance",
        path="/v1/admin/ledger/trial-balance",
        roles=ADMIN,
        summary="Balances per ledger account; they sum to zero",
        tag="Admin",
    ),
)

SCHEDULES: tuple[Schedule, ...] = (
    # each walker's available balance (earned more than 48 h ago), once a week
    SERVICE.schedule("pay_out_walkers", every_s=7 * 24 * 3600, timeout_s=300, uses=frozenset({DATABASE})),
)
