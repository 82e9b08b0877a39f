"""The booking state machine: requested → accepted → in_progress → completed; requested →
declined | expired | cancelled; accepted → cancelled. Each transition is one transaction that
locks the booking, checks its state, writes the new one, an audit row and the domain event for
the other party. PostgreSQL refuses overlapping accepted bookings of one walker (an exclusion
constraint), which answers 409 `booking_conflict`."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from dogwalk.adapters import db, faults
from dogwalk.adapters.pagination import Page, decode_cursor, identifier, instant, page
from dogwalk.bookings import holds
from dogwalk.errors import Conflict, InvalidState, NotFound, PaymentDeclined, Unavailable, ValidationFailed, require_id
from dogwalk.events import outbox
from dogwalk.marketplace import dogs, pricing, walkers
from dogwalk.payments import gateway, ledger

ALLOWED: dict[str, frozenset[str]] = {
    "requested": frozenset({"accepted", "declined", "expired", "cancelled"}),
    "accepted": frozenset({"cancelled", "in_progress"}),
    "in_progress": frozenset({"completed"}),
}
# the event each arrival publishes, and who hears of it
EVENTS: dict[str, tuple[str, str]] = {
    "accepted": ("booking.accepted", "owner"),
    "declined": ("booking.declined", "owner"),
    "expired": ("booking.expired", "owner"),
    "in_progress": ("walk.started", "owner"),
    "completed": ("walk.completed", "owner"),
}

# the statuses the no-overlap constraint covers
SCHEDULED = frozenset({"accepted", "in_progress"})


def lock_schedule(conn: db.Connection, walker_id: str) -> None:
    """Writers of a walker's scheduled walks take turns, until their transactions end. The exclusion
    constraint then compares each with committed rows only: concurrent writers would otherwise
    wait on each other's uncommitted rows, in chains and deadlocks that PostgreSQL breaks a second
    later (50 concurrent accepts ran into the 3 s statement timeout on a busy machine)."""
    db.lock(conn, f"schedule:{walker_id}")


def transition(
    conn: db.Connection, booking_id: str, to: str, *, actor_id: str | None, reason: str | None = None
) -> dict[str, Any]:
    """Move the booking to `to` inside the caller's transaction; its row, as it is now."""
    booking = conn.execute(
        "SELECT id::text, owner_id::text, walker_id::text, status, start_ts, end_ts FROM bookings"
        " WHERE id = %s FOR UPDATE",
        (booking_id,),
    ).fetchone()
    if booking is None:
        raise NotFound("No such booking.")
    current = booking["status"]
    if to not in ALLOWED.get(current, frozenset()):
        raise InvalidState(f"A {current} booking cannot become {to}.")
    if to in SCHEDULED:
        lock_schedule(conn, booking["walker_id"])
    try:
        with conn.transaction():  # a savepoint: a conflict leaves the caller's transaction usable
            conn.execute("UPDATE bookings SET status = %s, updated_at = now() WHERE id = %s", (to, booking_id))
    except psycopg.errors.ExclusionViolation:
        raise Conflict("The walker already has an accepted walk at that time.", code="booking_conflict") from None
    if to in FINAL_WITHOUT_CHARGE:  # a hold never placed (or that failed) has nothing to release: it is over
        conn.execute(
            "UPDATE bookings SET payment_status = 'voided', payment_deadline = NULL"
            " WHERE id = %s AND payment_status IN ('scheduled', 'failed')",
            (booking_id,),
        )
    conn.execute(
        "INSERT INTO booking_transitions (booking_id, from_status, to_status, actor_id, reason)"
        " VALUES (%s, %s, %s, %s, %s)",
        (booking_id, current, to, actor_id, reason),
    )
    event, recipient_role = EVENTS.get(to, ("booking.cancelled", ""))
    if to == "cancelled":  # the other party hears of it
        recipient_role = "walker" if actor_id == booking["owner_id"] else "owner"
    recipient = booking["owner_id"] if recipient_role == "owner" else booking["walker_id"]
    outbox.record(conn, event, recipient, recipient_role, {"booking_id": booking_id, "from": current, "to": to,
                                                           "reason": reason})  # fmt: skip
    return {**booking, "status": to}


def move(booking_id: str, to: str, *, actor_id: str | None, reason: str | None = None) -> dict[str, Any]:
    """`transition` in a transaction of its own."""
    with db.transaction() as conn:
        return transition(conn, booking_id, to, actor_id=actor_id, reason=reason)


MAX_DAYS_AHEAD = 90


@dataclass(frozen=True)
class WalkRequest:
    owner_id: str
    walker_id: str
    dog_ids: list[str]
    start: datetime
    duration_min: int
    pickup_lat: float
    pickup_lon: float
    pickup_address: str | None = None


def _invalid(loc: list[str], msg: str) -> ValidationFailed:
    return ValidationFailed(msg, errors=[{"loc": loc, "msg": msg}])


def quote_walk(walk: WalkRequest, *, now: datetime | None = None,
               moving: str | None = None) -> tuple[pricing.Quote, str]:  # fmt: skip
    """The price of the walk, after every request-time rule (422 with the reason, 409 when the
    walker is already booked); also the walker's timezone. `moving`: the booking this walk
    replaces (a change), whose own time does not count as the walker's."""
    now = now or datetime.now(UTC)
    if walk.start <= now:
        raise _invalid(["body", "start"], "The walk must start in the future.")
    if walk.start > now + timedelta(days=MAX_DAYS_AHEAD):
        raise _invalid(["body", "start"], f"Walks are booked at most {MAX_DAYS_AHEAD} days ahead.")
    try:
        sizes = dogs.sizes_of(walk.owner_id, walk.dog_ids)
    except NotFound:
        raise _invalid(["body", "dog_ids"], "Book with your own dogs.") from None
    end = walk.start + timedelta(minutes=walk.duration_min)
    fitting = walkers.fit(walk.walker_id, walk.pickup_lat, walk.pickup_lon, walk.start, end, sizes, excluding=moving)
    if fitting is None or not fitting.bookable:
        raise _invalid(["body", "walker_id"], "This walker cannot be booked.")
    if not fitting.covers_pickup:
        raise _invalid(["body", "pickup"], "The pickup is outside the walker's service area.")
    if not fitting.takes_the_dogs:
        raise _invalid(["body", "dog_ids"], "The walker does not take these dogs (size or number).")
    if not fitting.available:
        raise _invalid(["body", "start"], "The walker does not work then.")
    if fitting.already_booked:
        raise Conflict("The walker already has an accepted walk at that time.", code="booking_conflict")
    quoted = pricing.quote(
        price_cents_per_30min=fitting.price_cents_per_30min,
        duration_min=walk.duration_min,
        dog_count=len(walk.dog_ids),
        start=walk.start,
        booked_at=now,
        timezone=fitting.timezone,
    )
    return quoted, fitting.timezone


def request_walks(walk: WalkRequest, payment_method_id: str, notes: str | None, weekly_count: int = 1, *,
                  now: datetime | None = None) -> list[str]:  # fmt: skip
    """Request one walk, or a weekly series of them, all or none: each is quoted; a walk starting
    within 5 days has its price held on the card now, one further ahead is written with its
    payment `scheduled` (`scheduled_holds` holds it 5 days before), once the card is checked as
    usable until then; then every booking is written in one transaction. A refused card holds
    nothing and writes nothing (402); a failure after the holds releases them."""
    moment = now or datetime.now(UTC)
    gateway_method = gateway.gateway_method(walk.owner_id, payment_method_id)
    if gateway_method is None:
        raise _invalid(["body", "payment_method_id"], "Use one of your saved payment methods.")
    walks = [replace(walk, start=walk.start + timedelta(weeks=week)) for week in range(weekly_count)]
    quotes = [quote_walk(each, now=moment)[0] for each in walks]
    later = [each.start for each in walks if not holds.due(each.start, moment)]
    if later:
        gateway.check_saved_card(walk.owner_id, gateway_method, valid_through=max(later))
    series_id = str(uuid.uuid4()) if weekly_count > 1 else None
    booking_ids = [str(uuid.uuid4()) for _ in walks]
    intents: list[str | None] = []
    try:
        for booking_id, each, quoted in zip(booking_ids, walks, quotes, strict=True):
            intents.append(
                gateway.authorize(walk.owner_id, gateway_method, quoted.total_cents, quoted.currency, booking_id)
                if holds.due(each.start, moment)
                else None
            )
        with db.transaction() as conn:
            for booking_id, each, quoted, intent in zip(booking_ids, walks, quotes, intents, strict=True):
                _write(conn, booking_id, each, quoted, intent, payment_method_id, notes, series_id)
    except BaseException:
        for intent in intents:
            gateway.void(intent)
        raise
    return booking_ids


def _write(
    conn: db.Connection,
    booking_id: str,
    walk: WalkRequest,
    quoted: pricing.Quote,
    intent: str | None,
    payment_method_id: str,
    notes: str | None,
    series_id: str | None,
) -> None:
    """One requested booking: held (`intent`, attempt 1) or its hold scheduled (None)."""
    conn.execute(
        """
        INSERT INTO bookings (id, owner_id, walker_id, start_ts, end_ts, status, pickup_lat, pickup_lon,
                              pickup_address, notes, series_id, price, currency, payment_method_id,
                              payment_intent_id, payment_status, authorized_cents, hold_attempts)
        VALUES (%s, %s, %s, %s, %s, 'requested', %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
        """,
        (
            booking_id, walk.owner_id, walk.walker_id, walk.start, walk.start + timedelta(minutes=walk.duration_min),
            walk.pickup_lat, walk.pickup_lon, walk.pickup_address, notes, series_id, Jsonb(asdict(quoted)),
            quoted.currency, payment_method_id, intent, "authorized" if intent else "scheduled",
            quoted.total_cents if intent else 0, 1 if intent else 0,
        ),
    )  # fmt: skip
    with conn.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO booking_dogs (booking_id, dog_id) VALUES (%s, %s)", [(booking_id, d) for d in walk.dog_ids]
        )
    conn.execute(
        "INSERT INTO booking_transitions (booking_id, from_status, to_status, actor_id)"
        " VALUES (%s, '', 'requested', %s)",
        (booking_id, walk.owner_id),
    )
    outbox.record(
        conn, "booking.requested", walk.walker_id, "walker", {"booking_id": booking_id, "start": walk.start.isoformat()}
    )


_BOOKING = """
    SELECT b.id::text, b.status, b.owner_id::text, b.walker_id::text, b.start_ts AS start, b.end_ts AS end,
           b.pickup_lat, b.pickup_lon, b.pickup_address, b.price, b.payment_status, b.series_id::text, b.notes,
           coalesce(array_agg(bd.dog_id::text ORDER BY bd.dog_id) FILTER (WHERE bd.dog_id IS NOT NULL), '{}') AS dog_ids
      FROM bookings b LEFT JOIN booking_dogs bd ON bd.booking_id = b.id
"""


def get(booking_id: str, caller_id: str, caller_role: str) -> dict[str, Any]:
    """The booking, for its owner, its walker or an admin; anyone else: not found."""
    require_id(booking_id, "booking")
    with db.transaction() as conn:
        row = conn.execute(
            _BOOKING + " WHERE b.id = %s AND (%s OR %s IN (b.owner_id, b.walker_id)) GROUP BY b.id",
            (booking_id, caller_role == "admin", caller_id),
        ).fetchone()
    if row is None:
        raise NotFound("No such booking.")
    return row


def list_for(
    caller_id: str,
    caller_role: str,
    *,
    status: str | None,
    start_from: datetime | None,
    start_to: datetime | None,
    limit: int,
    cursor: str | None,
) -> Page:
    """The caller's bookings (as owner or as walker) by start time, optionally of one status and
    starting within [start_from, start_to)."""
    party = "b.owner_id" if caller_role == "owner" else "b.walker_id"
    after = decode_cursor(cursor, instant, identifier)
    start, start_id = (after[0], after[1]) if after else (None, None)
    with db.transaction() as conn:
        found = conn.execute(
            _BOOKING  # nosec B608 - `party` is one of two column names
            + f" WHERE {party} = %s AND (%s::text IS NULL OR b.status = %s)"
            "   AND (%s::timestamptz IS NULL OR b.start_ts >= %s) AND (%s::timestamptz IS NULL OR b.start_ts < %s)"
            "   AND (%s::timestamptz IS NULL OR (b.start_ts, b.id) > (%s::timestamptz, %s::uuid))"
            " GROUP BY b.id ORDER BY b.start_ts, b.id LIMIT %s",
            (caller_id, status, status, start_from, start_from, start_to, start_to, start, start, start_id, limit + 1),
        ).fetchall()
    return page(found, limit, lambda row: [row["start"].isoformat(), row["id"]])


def in_series(series_id: str, caller_id: str) -> list[dict[str, Any]]:
    """The walks of a weekly series by start time, for its owner or its walker (none for anyone else)."""
    with db.transaction() as conn:
        return conn.execute(
            _BOOKING + " WHERE b.series_id = %s AND %s IN (b.owner_id, b.walker_id) GROUP BY b.id ORDER BY b.start_ts",
            (series_id, caller_id),
        ).fetchall()


def payment_of(booking_id: str, caller_id: str, caller_role: str) -> dict[str, Any]:
    """Where the booking's money stands, for its owner, its walker or an admin."""
    require_id(booking_id, "booking")
    with db.transaction() as conn:
        row = conn.execute(
            "SELECT payment_status AS status, authorized_cents, captured_cents, refunded_cents, tip_cents, currency"
            "  FROM bookings WHERE id = %s AND (%s OR %s IN (owner_id, walker_id))",
            (booking_id, caller_role == "admin", caller_id),
        ).fetchone()
    if row is None:
        raise NotFound("No such booking.")
    return row


FINAL_WITHOUT_CHARGE = ("declined", "expired", "cancelled")


def act_as_walker(booking_id: str, walker_id: str, to: str, reason: str | None = None) -> dict[str, Any]:
    """The walker's answer to a request (accept or decline); someone else's booking is not found."""
    with db.transaction() as conn:
        _own_booking(conn, booking_id, walker_id)
        transition(conn, booking_id, to, actor_id=walker_id, reason=reason)
    if to in FINAL_WITHOUT_CHARGE:
        release_hold(booking_id)
    return get(booking_id, walker_id, "walker")


def release_hold(booking_id: str) -> bool:
    """Void the payment hold of a booking that ended without a charge; True if one was released
    (a booking whose hold was never placed, or failed, had nothing held: `transition` closed it).

    Called right after the transition (best effort) and by the expiry sweep (the guarantee):
    a hold is never left on a card because the gateway was down for a moment."""
    with db.transaction() as conn:
        row = conn.execute(
            "SELECT payment_intent_id FROM bookings"
            " WHERE id = %s AND status = ANY(%s) AND payment_status = 'authorized'",
            (booking_id, list(FINAL_WITHOUT_CHARGE)),
        ).fetchone()
    if row is None or not row["payment_intent_id"]:
        return False
    try:
        gateway.void(row["payment_intent_id"])
    except Unavailable:
        return False  # the sweep releases it later
    with db.transaction() as conn:
        conn.execute(  # all of the hold went back: authorized = captured + refunded, as after a cancellation
            "UPDATE bookings SET payment_status = 'voided', refunded_cents = authorized_cents WHERE id = %s",
            (booking_id,),
        )
    return True


def expire_and_release(now: datetime | None = None) -> dict[str, int]:
    """The scheduled sweep: requests not accepted by their start expire, and every hold of a
    booking that ended without a charge is released. Idempotent."""
    moment = now or datetime.now(UTC)
    with db.transaction() as conn:
        due = [
            row["id"]
            for row in conn.execute(
                "SELECT id::text FROM bookings WHERE status = 'requested' AND start_ts <= %s"
                " ORDER BY start_ts LIMIT 500",
                (moment,),
            ).fetchall()
        ]
    expired = 0
    for booking_id in due:
        try:
            move(booking_id, "expired", actor_id=None, reason="not accepted before its start")
            expired += 1
        except InvalidState:  # accepted or cancelled meanwhile
            continue
    with db.transaction() as conn:
        holding = [
            row["id"]
            for row in conn.execute(
                "SELECT id::text FROM bookings WHERE status = ANY(%s) AND payment_status = 'authorized' LIMIT 500",
                (list(FINAL_WITHOUT_CHARGE),),
            ).fetchall()
        ]
    released = sum(release_hold(booking_id) for booking_id in holding)
    return {"expired": expired, "released": released}


START_EARLY = timedelta(minutes=15)


def _own_booking(conn: db.Connection, booking_id: str, walker_id: str) -> dict[str, Any]:
    require_id(booking_id, "booking")
    row = conn.execute(
        "SELECT id::text, status, start_ts, price, payment_intent_id, payment_status, authorized_cents"
        " FROM bookings WHERE id = %s AND walker_id = %s FOR UPDATE",
        (booking_id, walker_id),
    ).fetchone()
    if row is None:
        raise NotFound("No such booking.")
    return row


def start_walk(booking_id: str, walker_id: str, *, now: datetime | None = None) -> dict[str, Any]:
    """From 15 minutes before its start: the walk begins; its id and the MQTT topic to publish to."""
    moment = now or datetime.now(UTC)
    with db.transaction() as conn:
        booking = _own_booking(conn, booking_id, walker_id)
        if booking["status"] == "accepted" and moment < booking["start_ts"] - START_EARLY:
            raise InvalidState("A walk starts at the earliest 15 minutes before its time.")
        transition(conn, booking_id, "in_progress", actor_id=walker_id)
        walk_id = str(uuid.uuid4())
        conn.execute(
            "INSERT INTO walks (id, booking_id, started_at) VALUES (%s, %s, %s)", (walk_id, booking_id, moment)
        )
    return {"id": walk_id, "mqtt_topic": f"dogwalk/walks/{walk_id}/location"}


def complete_walk(
    booking_id: str, walker_id: str, *, note: str | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """The walk ends: the held price is captured, the ledger posts the walker's share and the
    platform's fee, and the walk's summary is frozen. The booking stays locked while the gateway
    captures. Safe to retry after any failure: the capture is found rather than repeated, the
    ledger posts once per booking; and the gateway's `payment_intent.succeeded` finishes a
    completion whose commit was lost (see `webhooks`).

    A walk whose price is not held (its hold never placed, failed, or cancelled at the gateway) is
    not completed for nothing: its price is charged at once on the saved card (place-and-capture;
    the walk was walked). If that card declines: 402, the walk stays in progress, the payment
    `failed` and both parties told; the owner gives another card (`POST .../payment-method`,
    which holds it) and the walker completes again.

    `note`: the walker's words on the walk, kept on the walk (its summary and report card)."""
    moment = now or datetime.now(UTC)
    require_id(booking_id, "booking")
    with db.transaction() as conn:
        booking = holds.locked(conn, booking_id)
        if booking is None or booking["walker_id"] != walker_id:
            raise NotFound("No such booking.")
        if booking["status"] != "in_progress":
            raise InvalidState(f"A {booking['status']} booking cannot become completed.")
        captured: int | None = None
        if booking["payment_status"] == "authorized":
            try:
                captured = gateway.capture(booking["payment_intent_id"], booking["authorized_cents"], booking_id)
            except gateway.HoldCanceled:
                captured = None
        if captured is None:
            captured = holds.charge_unheld(conn, booking, holds.price_of(booking), now=moment)
        if captured is not None:
            faults.point("bookings.captured")
            settle_completion(conn, booking_id, captured, actor_id=walker_id)
            if note is not None:
                conn.execute("UPDATE walks SET note = %s WHERE booking_id = %s", (note, booking_id))
    if captured is None:
        raise PaymentDeclined("The owner's card was declined; they are asked to give another.")
    return get(booking_id, walker_id, "walker")


def settle_completion(conn: db.Connection, booking_id: str, captured: int, *, actor_id: str | None) -> None:
    """Record a captured walk in the caller's transaction: completed, the walk ended, the
    walker's count, and the ledger's capture (walker: the price less the fee; platform: the fee).
    `actor_id` None: the platform, reconciling from the gateway's event."""
    booking = transition(conn, booking_id, "completed", actor_id=actor_id)
    conn.execute(
        "UPDATE bookings SET payment_status = 'captured', captured_cents = %s WHERE id = %s", (captured, booking_id)
    )
    conn.execute("UPDATE walks SET ended_at = now() WHERE booking_id = %s AND ended_at IS NULL", (booking_id,))
    conn.execute(
        "UPDATE walker_profiles SET completed_walks = completed_walks + 1 WHERE user_id = %s", (booking["walker_id"],)
    )
    ledger.post_capture(
        conn,
        reference=f"capture:{booking_id}",
        description="walk completed",
        walker_id=booking["walker_id"],
        charged_cents=captured,
        fee_cents=_share_of_fee(conn, booking_id, captured),
    )
    outbox.record(conn, "payment.captured", booking["owner_id"], "owner",
                  {"booking_id": booking_id, "amount_cents": captured, "reason": "walk completed"})  # fmt: skip


def _share_of_fee(conn: db.Connection, booking_id: str, charged: int) -> int:
    """The platform's part of `charged`: the service fee in the proportion of the price charged."""
    row = conn.execute("SELECT price FROM bookings WHERE id = %s", (booking_id,)).fetchone()
    total, fee = (row["price"]["total_cents"], row["price"]["service_fee_cents"]) if row else (0, 0)
    return fee if charged >= total else round(charged * fee / total) if total else 0


FULL_REFUND_BEFORE = timedelta(hours=24)
HALF_REFUND_BEFORE = timedelta(hours=2)


def cancellation_charge(total_cents: int, *, status: str, by_owner: bool, start: datetime, now: datetime) -> int:
    """What the owner pays for cancelling: nothing for a request or when the walker cancels;
    for an accepted walk, nothing 24 h or more ahead, half from 24 h to 2 h, all under 2 h."""
    if status == "requested" or not by_owner:
        return 0
    ahead = start - now
    if ahead >= FULL_REFUND_BEFORE:
        return 0
    if ahead >= HALF_REFUND_BEFORE:
        return (total_cents + 1) // 2
    return total_cents


def cancel(booking_id: str, caller_id: str, reason: str | None, *, now: datetime | None = None) -> dict[str, Any]:
    """Cancel a requested or accepted booking by its owner or walker: the hold is released, or
    the policy's share of the price captured (the rest released) and posted to the ledger;
    `refund_cents` is the part of the price the owner does not pay.

    Where nothing is held: a payment that `failed` costs nothing to cancel (unfixed, its deadline
    would cancel it at no cost anyway); a hold still `scheduled` (the job could not place it)
    that the policy charges is charged at once on the saved card, and a decline is 402 with the
    booking unchanged but its payment `failed`.

    The booking stays locked while the gateway is called, so that a walk cannot start (nor a
    second cancellation run) between the charge and its record."""
    moment = now or datetime.now(UTC)
    require_id(booking_id, "booking")
    with db.transaction() as conn:
        booking = holds.locked(conn, booking_id)
        if booking is None or caller_id not in (booking["owner_id"], booking["walker_id"]):
            raise NotFound("No such booking.")
        if "cancelled" not in ALLOWED.get(booking["status"], frozenset()):
            raise InvalidState(f"A {booking['status']} booking cannot be cancelled.")
        total = holds.price_of(booking)
        by_owner = caller_id == booking["owner_id"]
        charge: int | None = cancellation_charge(total, status=booking["status"], by_owner=by_owner,
                                                 start=booking["start_ts"], now=moment)  # fmt: skip
        held = booking["payment_status"] == "authorized"
        if booking["payment_status"] == "failed":
            charge = 0
        if charge and held:
            charge = gateway.capture(booking["payment_intent_id"], charge, booking_id)
        elif charge:
            charge = holds.charge_unheld(conn, booking, charge, now=moment)
        elif held:
            gateway.void(booking["payment_intent_id"])
        if charge is not None:
            settle_cancellation(conn, booking_id, charge, actor_id=caller_id, reason=reason)
    if charge is None:
        raise PaymentDeclined("The card was declined for the cancellation's charge; give another card first.")
    return {**get(booking_id, caller_id, "owner"), "refund_cents": total - charge}


def settle_cancellation(
    conn: db.Connection, booking_id: str, charge: int, *, actor_id: str | None, reason: str | None
) -> None:
    """Record a cancellation in the caller's transaction: what was charged (posted to the ledger,
    split as the price is) and what went back to the owner."""
    booking = transition(conn, booking_id, "cancelled", actor_id=actor_id, reason=reason)
    row = conn.execute("SELECT authorized_cents FROM bookings WHERE id = %s", (booking_id,)).fetchone()
    total = row["authorized_cents"] if row else 0
    status = "voided" if not charge else "captured" if charge >= total else "partially_refunded"
    conn.execute(
        "UPDATE bookings SET payment_status = %s, captured_cents = %s, refunded_cents = %s WHERE id = %s",
        (status, charge, max(total - charge, 0), booking_id),
    )
    if charge:
        ledger.post_capture(
            conn,
            reference=f"cancellation:{booking_id}",
            description="cancellation charge",
            walker_id=booking["walker_id"],
            charged_cents=charge,
            fee_cents=_share_of_fee(conn, booking_id, charge),
        )
        outbox.record(conn, "payment.captured", booking["owner_id"], "owner",
                      {"booking_id": booking_id, "amount_cents": charge, "reason": "late cancellation"})  # fmt: skip


def review(booking_id: str, owner_id: str, rating: int, comment: str | None) -> dict[str, Any]:
    """The owner's one review of a completed walk; the walker's rating aggregate changes in the
    same transaction (a second review is 409)."""
    require_id(booking_id, "booking")
    with db.transaction() as conn:
        booking = conn.execute(
            "SELECT walker_id::text, status FROM bookings WHERE id = %s AND owner_id = %s FOR UPDATE",
            (booking_id, owner_id),
        ).fetchone()
        if booking is None:
            raise NotFound("No such booking.")
        if booking["status"] != "completed":
            raise InvalidState("Only a completed walk can be reviewed.")
        written = conn.execute(
            "INSERT INTO reviews (booking_id, owner_id, walker_id, rating, comment) VALUES (%s, %s, %s, %s, %s)"
            " ON CONFLICT (booking_id) DO NOTHING RETURNING created_at",
            (booking_id, owner_id, booking["walker_id"], rating, comment),
        ).fetchone()
        if written is None:
            raise Conflict("This walk has its review already.", code="already_reviewed")
        conn.execute(
            "UPDATE walker_profiles SET rating_sum = rating_sum + %s, rating_count = rating_count + 1"
            " WHERE user_id = %s",
            (rating, booking["walker_id"]),
        )
        outbox.record(conn, "review.received", booking["walker_id"], "walker",
                      {"booking_id": booking_id, "rating": rating})  # fmt: skip
    return {"booking_id": booking_id, "rating": rating, "comment": comment, "created_at": written["created_at"]}
