"""The payment gateway, Stripe through its SDK (localstripe locally): an owner's customer and
saved payment methods. The card never reaches us: apps tokenize with Stripe, we keep the
PaymentMethod id, brand, last 4 and expiry. Every call that changes something at Stripe carries
an idempotency key derived from our own operation, so a retried Lambda never does it twice.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from datetime import datetime
from functools import cache
from typing import Any

from dogwalk.adapters import aws, db
from dogwalk.adapters.pagination import Page, oldest_first
from dogwalk.config import settings
from dogwalk.errors import Conflict, PaymentDeclined, Unavailable, ValidationFailed


@cache
def _credentials() -> dict[str, str]:
    """The API key and the webhook signing secrets (the platform's endpoint's `webhook_secret`, the
    Connect endpoint's `connect_webhook_secret`), from Secrets Manager (once per container)."""
    secret = aws.client("secretsmanager").get_secret_value(SecretId=settings().payments_secret_id)
    return dict(json.loads(secret["SecretString"]))


@cache
def _client() -> Any:
    import stripe

    base = {"api": settings().stripe_api_base} if settings().stripe_api_base else None
    return stripe.StripeClient(_credentials()["api_key"], base_addresses=base, max_network_retries=2)  # type: ignore[arg-type]


def _call(operation: Any, *args: Any, **kwargs: Any) -> Any:
    """A gateway call, its failures as the domain's: declined → 402, refused input → 422,
    unreachable → 503."""
    import stripe

    try:
        return operation(*args, **kwargs)
    except stripe.CardError as exc:
        raise PaymentDeclined(exc.user_message or "The card was declined.") from exc
    except stripe.IdempotencyError as exc:  # the same operation is running at the gateway right now
        raise Conflict("This payment is being processed; retry in a moment.", code="payment_in_progress") from exc
    except stripe.InvalidRequestError as exc:
        raise ValidationFailed(
            "The payment gateway did not accept this.", errors=[{"loc": ["body"], "msg": exc.user_message or "invalid"}]
        ) from exc
    except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as exc:
        raise Unavailable("The payment gateway cannot be reached; try again.") from exc


def customer_of(owner_id: str) -> str:
    """The owner's gateway customer, created on first use (once, whatever the retries)."""
    with db.transaction() as conn:
        row = conn.execute("SELECT gateway_id FROM payment_customers WHERE owner_id = %s", (owner_id,)).fetchone()
    if row is not None:
        return str(row["gateway_id"])
    customer = _call(
        _client().v1.customers.create,
        params={"metadata": {"owner_id": owner_id}},
        options={"idempotency_key": f"customer:{owner_id}"},
    )
    with db.transaction() as conn:
        conn.execute(
            "INSERT INTO payment_customers (owner_id, gateway_id) VALUES (%s, %s) ON CONFLICT (owner_id) DO NOTHING",
            (owner_id, customer.id),
        )
        row = conn.execute("SELECT gateway_id FROM payment_customers WHERE owner_id = %s", (owner_id,)).fetchone()
    return str(row["gateway_id"]) if row else str(customer.id)


_METHOD_COLUMNS = "id::text, brand, last4, exp_month, exp_year, created_at"


def save_payment_method(owner_id: str, gateway_token: str) -> dict[str, Any]:
    """Attach the app's tokenized card to the owner's customer and keep its description."""
    customer = customer_of(owner_id)
    method = _call(
        _client().v1.payment_methods.attach,
        gateway_token,
        params={"customer": customer},
        # the token is the app's: a digest keeps the key ASCII and within Stripe's 255 characters
        options={"idempotency_key": f"attach:{owner_id}:{hashlib.sha256(gateway_token.encode()).hexdigest()}"},
    )
    card = method.card
    with db.transaction() as conn:
        row = conn.execute(
            f"INSERT INTO payment_methods (id, owner_id, gateway_id, brand, last4, exp_month, exp_year)"  # noqa: S608  # nosec B608
            # the same card saved again by its owner answers the saved row; never moves it to someone else
            f" VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (gateway_id) DO UPDATE SET owner_id = EXCLUDED.owner_id"
            f" WHERE payment_methods.owner_id = EXCLUDED.owner_id RETURNING {_METHOD_COLUMNS}",
            (str(uuid.uuid4()), owner_id, method.id, card.brand, card.last4, card.exp_month, card.exp_year),
        ).fetchone()
    if row is None:
        raise Conflict("This payment method belongs to another account.", code="payment_method_taken")
    return row


def list_payment_methods(owner_id: str, limit: int, cursor: str | None) -> Page:
    query = f"SELECT {_METHOD_COLUMNS} FROM payment_methods WHERE owner_id = %s"  # noqa: S608  # nosec B608
    return oldest_first(query, (owner_id,), limit, cursor)


def gateway_method(owner_id: str, payment_method_id: str) -> str | None:
    """The gateway id of one of the owner's saved methods; None if it is not theirs."""
    try:
        uuid.UUID(payment_method_id)
    except ValueError:
        return None
    with db.transaction() as conn:
        row = conn.execute(
            "SELECT gateway_id FROM payment_methods WHERE id = %s AND owner_id = %s", (payment_method_id, owner_id)
        ).fetchone()
    return str(row["gateway_id"]) if row else None


def _confirmed_intent(owner_id: str, gateway_method_id: str, amount_cents: int, currency: str, *, key: str,
                      metadata: dict[str, str], **how: Any) -> Any:  # fmt: skip
    """A PaymentIntent on the owner's saved card, confirmed at once; `key` makes it happen once."""
    return _call(
        _client().v1.payment_intents.create,
        params={
            "amount": amount_cents,
            "currency": currency.lower(),
            "customer": customer_of(owner_id),
            "payment_method": gateway_method_id,
            "confirm": True,
            "metadata": metadata,
            **how,
        },
        options={"idempotency_key": key},
    )


def hold_key(booking_id: str, attempt: int) -> str:
    """The idempotency key of a booking's `attempt`-th hold: a retry after a lost answer
    finds that attempt at the gateway; the next attempt (another card, a hold placed again after
    the gateway cancelled one) is a new operation."""
    return f"hold:{booking_id}:{attempt}"


def change_hold_key(booking_id: str, change_id: str) -> str:
    """The idempotency key of the hold a booking change places for its new price (the change is the
    operation: a retried acceptance of it finds that hold)."""
    return f"hold:{booking_id}:change:{change_id}"


def authorize(owner_id: str, gateway_method_id: str, amount_cents: int, currency: str, booking_id: str,
              attempt: int = 1, *, off_session: bool = False, change_id: str | None = None) -> str:  # fmt: skip
    """Hold `amount_cents` on the card (a PaymentIntent with manual capture); its id. `off_session`
    when the owner is not there to authenticate (the job placing a hold days after the request).
    The booking and the attempt make the idempotency key: a retried request or job run holds once;
    a booking change's hold is keyed by the change (`change_id`) instead."""
    key = change_hold_key(booking_id, change_id) if change_id else hold_key(booking_id, attempt)
    which = {"change_id": change_id} if change_id else {"attempt": str(attempt)}
    intent = _confirmed_intent(owner_id, gateway_method_id, amount_cents, currency, key=key,
                               metadata={"booking_id": booking_id, **which}, capture_method="manual",
                               **({"off_session": True} if off_session else {}))  # fmt: skip
    if intent.status != "requires_capture":
        void(intent.id)
        raise PaymentDeclined("The card could not be authorized.")
    return str(intent.id)


def check_saved_card(owner_id: str, gateway_method_id: str, *, valid_through: datetime) -> None:
    """That the saved card can be charged later, for a walk whose hold is placed days from now:
    it exists at the gateway, is attached to this owner's customer, and has not expired by the
    month of `valid_through` (a card is good to the end of its exp_month). 402 otherwise.

    Why the saved payment method's state and not a SetupIntent confirmed off session: the card
    went through the gateway when it was saved (attached to the customer, which refuses the cards
    that decline on attach), and a read changes nothing at the gateway, needs no idempotency key
    and can be repeated for every request; a SetupIntent per booking would add an object and, at
    Stripe, a card verification the issuer may show the owner, and may ask for authentication the
    owner cannot give off session. localstripe serves the read as Stripe does (its SetupIntents
    take no `confirm`/`off_session` at creation and check no more than the attach did). Neither
    catches a card like `pm_card_chargeCustomerFail`, which saves fine and declines only when
    charged: the hold placed 5 days before the walk is the real check, with 24 h to fix it."""
    try:
        method = _call(_client().v1.payment_methods.retrieve, gateway_method_id)
    except ValidationFailed:  # no longer at the gateway
        raise PaymentDeclined("This card can no longer be used; choose another.") from None
    if getattr(method, "customer", None) != customer_of(owner_id):
        raise PaymentDeclined("This card is no longer saved to your account; choose another.")
    card = getattr(method, "card", None)
    if card is None or (int(card.exp_year), int(card.exp_month)) < (valid_through.year, valid_through.month):
        raise PaymentDeclined("This card expires before the walk; choose another.")


def void(intent_id: str | None) -> None:
    """Release a hold: nothing when nothing was held (a walk whose hold was never placed) or when
    the gateway already cancelled it (an expired hold). Keyed by the intent: a booking may have
    held more than once."""
    if not intent_id:
        return
    try:
        _call(_client().v1.payment_intents.cancel, intent_id, options={"idempotency_key": f"void:{intent_id}"})
    except ValidationFailed:
        if _call(_client().v1.payment_intents.retrieve, intent_id).status != "canceled":
            raise


class HoldCanceled(Conflict):
    """The hold to capture is gone: the gateway cancelled it (it expired, or support cancelled it)."""

    code, title = "payment_not_held", "Payment not held"


def capture(intent_id: str, amount_cents: int, booking_id: str) -> int:
    """Charge (part of) a hold; the amount captured. A capture already done (a retry after a
    crash between the gateway and our commit) is found, not repeated; a hold the gateway
    cancelled is `HoldCanceled` (the caller charges otherwise, or answers 409)."""
    client = _client()
    intent = _call(client.v1.payment_intents.retrieve, intent_id)
    if intent.status == "succeeded":
        return int(getattr(intent, "amount_received", None) or amount_cents)
    if intent.status == "canceled":
        raise HoldCanceled("The payment's hold was cancelled at the gateway.")
    _call(
        client.v1.payment_intents.capture,
        intent_id,
        params={"amount_to_capture": amount_cents},
        options={"idempotency_key": f"capture:{booking_id}"},
    )
    return amount_cents


def charge(owner_id: str, gateway_method_id: str, amount_cents: int, currency: str, *, key: str,
           metadata: dict[str, str]) -> str:  # fmt: skip
    """Charge the card at once (off session: the owner is not there to authenticate); the
    PaymentIntent's id. `key` is the gateway idempotency key: the same key charges once."""
    intent = _confirmed_intent(owner_id, gateway_method_id, amount_cents, currency, key=key, metadata=metadata,
                               off_session=True)  # fmt: skip
    if intent.status != "succeeded":
        raise PaymentDeclined("The card could not be charged.")
    return str(intent.id)


def refund(intent_id: str, amount_cents: int, *, key: str, metadata: dict[str, str]) -> str:
    """Refund part of what a PaymentIntent captured; the Refund's id. `key` is the gateway
    idempotency key: a retry with it (after a crash, say) answers the same refund, never a second."""
    made = _call(
        _client().v1.refunds.create,
        params={"payment_intent": intent_id, "amount": amount_cents, "metadata": metadata},
        options={"idempotency_key": key},
    )
    return str(made.id)


def refunds_of(intent_id: str) -> list[Any]:
    """Every refund of a PaymentIntent's charge (with its metadata), newest first."""
    found = _call(_client().v1.refunds.list, params={"payment_intent": intent_id, "limit": 100})
    return list(found.auto_paging_iter())


SIGNATURE_TOLERANCE_S = 300


def verified_event(payload: str, signature: str, *, connect: bool = False) -> dict[str, Any]:
    """The gateway's event, if `signature` (the `Stripe-Signature` header) is the HMAC-SHA256 of
    `timestamp.payload` under the endpoint's secret (the platform's webhook's, or with `connect`
    the Connect webhook's: each endpoint at Stripe has its own), made within the last 5 minutes;
    the SDK's verification compares in constant time. Anything else: 400."""
    import stripe

    from dogwalk.errors import BadRequest

    secret = _credentials().get("connect_webhook_secret" if connect else "webhook_secret") or ""
    if not secret:
        raise Unavailable("The webhook secret is not configured.")
    try:
        stripe.WebhookSignature.verify_header(payload, signature, secret, SIGNATURE_TOLERANCE_S)
        # the SDK refuses only the past; a signature from the future is as suspect
        signed_at = int(next(part[2:] for part in signature.split(",") if part.startswith("t=")))
        if signed_at > time.time() + SIGNATURE_TOLERANCE_S:
            raise ValueError("signed in the future")
        event = json.loads(payload)
    except (stripe.SignatureVerificationError, ValueError, StopIteration):
        raise BadRequest("The signature does not verify.", code="invalid_signature") from None
    if not isinstance(event, dict) or not isinstance(event.get("id"), str) or not isinstance(event.get("type"), str):
        raise BadRequest("Not a gateway event.", code="invalid_event")
    return event


# -- Stripe Connect: walkers' connected accounts and the transfers that pay them ------------------

# Express-like accounts described by controller properties (what Stripe recommends over
# `type=express`, docs.stripe.com/connect/migrate-to-controller-properties): Stripe collects the
# walker's details on its hosted onboarding and gives them the Express dashboard; the platform pays
# Stripe's fees and answers for negative balances, as the merchant of record of the walks it
# charges (separate charges and transfers). Only `transfers` is requested: walkers take no payments.
CONNECT_CONTROLLER = {
    "stripe_dashboard": {"type": "express"},
    "fees": {"payer": "application"},
    "losses": {"payments": "application"},
    "requirement_collection": "stripe",
}


def create_connected_account(walker_id: str, email: str | None) -> Any:
    """The walker's connected account (US, transfers only); the walker id is the idempotency key, so
    a retried first onboarding makes one account."""
    params: dict[str, Any] = {
        "controller": CONNECT_CONTROLLER,
        "country": "US",
        "capabilities": {"transfers": {"requested": True}},
        "business_type": "individual",
        "metadata": {"walker_id": walker_id},
    }
    if email:
        params["email"] = email
    return _call(_client().v1.accounts.create, params=params, options={"idempotency_key": f"connect:{walker_id}"})


def retrieve_account(account_id: str) -> Any:
    return _call(_client().v1.accounts.retrieve, account_id)


def onboarding_link(account_id: str, *, return_url: str, refresh_url: str) -> Any:
    """A single-use link to the gateway's hosted onboarding of the account (`url`, `expires_at`);
    made anew on every call, as Stripe wants (links expire within minutes and work once)."""
    return _call(
        _client().v1.account_links.create,
        params={"account": account_id, "type": "account_onboarding", "return_url": return_url,
                "refresh_url": refresh_url},
    )  # fmt: skip


class TransferFailed(Exception):
    """The gateway refused a transfer or could not be reached; the reason, for the payout's row."""


def transfer(*, amount_cents: int, currency: str, destination: str, key: str, group: str,
             metadata: dict[str, str]) -> str:  # fmt: skip
    """Move `amount_cents` of the platform's balance to a connected account; the transfer's id.
    `key` makes it happen once: a retry with the same key (within Stripe's 24 hours) answers the
    transfer made the first time, whatever became of our record of it."""
    import stripe

    params = {"amount": amount_cents, "currency": currency.lower(), "destination": destination,
              "transfer_group": group, "metadata": metadata}  # fmt: skip
    try:
        made = _client().v1.transfers.create(params=params, options={"idempotency_key": key})
    except stripe.StripeError as exc:
        status = exc.http_status or "no answer"
        raise TransferFailed(f"{status} {exc.code or type(exc).__name__}: {exc.user_message or exc}"[:500]) from exc
    return str(made.id)


def transfer_in_group(destination: str, group: str) -> str | None:
    """The transfer already made to `destination` in `group`, if any: how a retry finds a transfer
    once its idempotency key has expired at the gateway."""
    import stripe

    try:
        found = _client().v1.transfers.list(params={"destination": destination, "transfer_group": group, "limit": 1})
    except stripe.StripeError as exc:
        raise TransferFailed(f"listing transfers: {exc.user_message or exc}"[:500]) from exc
    return str(found.data[0].id) if found.data else None
