"""The payment gateway, Stripe through its SDK (localstripe locally): an owner's customer and
saved payment methods. The card never reaches us: apps tokenize with Stripe, we keep the
PaymentMethod id, brand, last 4 and expiry. Every call that changes something at Stripe carries
an idempotency key derived from our own operation, so a retried Lambda never does it twice.
"""

from __future__ import annotations

import json
import time
import uuid
from functools import cache
from typing import Any

from dogwalk.adapters import aws, db
from dogwalk.adapters.pagination import Page, oldest_first
from dogwalk.config import settings
from dogwalk.errors import Conflict, PaymentDeclined, Unavailable, ValidationFailed


@cache
def _credentials() -> dict[str, str]:
    """The API key and the webhook signing secret, from Secrets Manager (once per container)."""
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
        options={"idempotency_key": f"attach:{owner_id}:{gateway_token}"},
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


def authorize(owner_id: str, gateway_method_id: str, amount_cents: int, currency: str, booking_id: str) -> str:
    """Hold `amount_cents` on the card (a PaymentIntent with manual capture); its id.
    The booking's id is the idempotency key: a retried request holds once."""
    intent = _confirmed_intent(owner_id, gateway_method_id, amount_cents, currency, key=f"authorize:{booking_id}",
                               metadata={"booking_id": booking_id}, capture_method="manual")  # fmt: skip
    if intent.status != "requires_capture":
        void(intent.id, booking_id)
        raise PaymentDeclined("The card could not be authorized.")
    return str(intent.id)


def void(intent_id: str, booking_id: str) -> None:
    """Release a hold."""
    _call(_client().v1.payment_intents.cancel, intent_id, options={"idempotency_key": f"void:{booking_id}"})


def capture(intent_id: str, amount_cents: int, booking_id: str) -> int:
    """Charge (part of) a hold; the amount captured. A capture already done (a retry after a
    crash between the gateway and our commit) is found, not repeated."""
    client = _client()
    intent = _call(client.v1.payment_intents.retrieve, intent_id)
    if intent.status == "succeeded":
        return int(getattr(intent, "amount_received", None) or amount_cents)
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


SIGNATURE_TOLERANCE_S = 300


def verified_event(payload: str, signature: str) -> dict[str, Any]:
    """The gateway's event, if `signature` (the `Stripe-Signature` header) is the HMAC-SHA256 of
    `timestamp.payload` under our webhook secret, made within the last 5 minutes; the SDK's
    verification compares in constant time. Anything else: 400."""
    import stripe

    from dogwalk.errors import BadRequest

    secret = _credentials().get("webhook_secret") or ""
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
