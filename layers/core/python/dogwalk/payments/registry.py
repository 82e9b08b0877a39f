"""The payments service's functions: saved cards, a booking's money, tips, the gateway's webhook,
the ledger's trial balance, walkers' earnings, payouts accounts (Connect onboarding and its
webhook) and their weekly payout, disputes and support's refunds."""

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
        "start_payouts_onboarding",
        method="POST",
        path="/v1/walkers/me/payouts/onboarding",
        roles=WALKER,
        summary="A single-use link to the gateway's onboarding of your payouts account (made on the first call)",
        tag="Walkers",
        timeout_s=30,
        uses=frozenset({DATABASE, CACHE, PAYMENTS}),
    ),
    SERVICE.endpoint(
        "get_payouts_account",
        path="/v1/walkers/me/payouts/account",
        roles=WALKER,
        summary="Where your payouts account stands: none, pending, enabled or restricted, and what is due",
        tag="Walkers",
    ),
    SERVICE.endpoint(
        "receive_connect_webhook",
        method="POST",
        path="/v1/payments/connect/webhook",
        summary="The payment gateway's Connect events (connected accounts), signed with their own secret; each once",
        uses=frozenset({DATABASE, PAYMENTS}),
    ),
    SERVICE.endpoint(
        "get_trial_balance",
        path="/v1/admin/ledger/trial-balance",
        roles=ADMIN,
        summary="Balances per ledger account; they sum to zero",
        tag="Admin",
    ),
    SERVICE.endpoint(
        "list_disputes",
        path="/v1/admin/disputes",
        roles=ADMIN,
        summary="Disputes of our charges (chargebacks), newest first; by status",
        tag="Admin",
    ),
    SERVICE.endpoint(
        "refund_booking",
        method="POST",
        path="/v1/admin/bookings/{booking_id}/refund",
        roles=ADMIN,
        summary="Refund part or all of what is left of a booking's captured payment, at the platform's expense",
        tag="Admin",
        idempotent=True,
        timeout_s=30,
        uses=frozenset({DATABASE, CACHE, PAYMENTS, EVENTS}),
    ),
)

SCHEDULES: tuple[Schedule, ...] = (
    # each walker's available balance (earned more than 48 h ago) transferred, once a week
    SERVICE.schedule("pay_out_walkers", every_s=7 * 24 * 3600, timeout_s=300, uses=frozenset({DATABASE, PAYMENTS})),
)
