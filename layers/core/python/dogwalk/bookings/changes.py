"""Booking changes: the owner asks for a new start, duration or dogs (API.md, "Booking changes and
series"). The new walk is quoted and checked exactly as a new request is (`lifecycle.quote_walk`,
the one pricing function, the booking's own time not counting against its walker). A requested
booking changes at once; an accepted one gets a `proposed` change that its walker accepts or
declines. A newer proposal supersedes the open one (at most one open per booking, an index's
guarantee): the owner's latest wish is the one the walker answers.

Applying a change is one transaction with the booking's row locked while the gateway is called
(as cancellation and completion do): the new time is written first, inside a savepoint, so the
exclusion constraint that guards acceptance (`bookings_no_double_booking`) refuses an overlap
(409 `booking_conflict`) before any money moves; then the hold follows the new price:

- held already (`authorized`) and the total differs: a new hold for the new total (key
  `hold:<booking>:change:<change>`), then the old one voided; a decline is 402 with the booking
  unchanged and its old hold in place (never a moment with no hold). localstripe, like most
  Stripe card payments, has no incremental authorization, so it is always void and re-authorize;
- moved more than 5 days ahead: the hold is voided and `scheduled` again (the card checked as
  usable until the walk), since a hold would not live until then;
- `scheduled` and now within 5 days: held at once for the new total (402 and unchanged if it
  declines); still further ahead: only the amount the job will hold changes;
- any price change that holds nothing now skips an attempt number, so that a hold attempt lost
  at the old price is never repeated at the new one under the same key.

Holds are not ledger movements (only captures are), so a change posts nothing to the ledger.
Every step writes an audit row (`booking_transitions`, the status unchanged, the reason naming
the change) and the change row keeps what the booking was before."""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from dogwalk.adapters import db
from dogwalk.bookings import holds, lifecycle
from dogwalk.errors import Conflict, InvalidState, NotFound, ValidationFailed, require_id
from dogwalk.events import outbox
from dogwalk.marketplace import pricing
from dogwalk.payments import gateway

CHANGEABLE = ("requested", "accepted")


@dataclass(frozen=True)
class Wanted:
    """What the owner asks to change; None: as it is."""

    start: datetime | None = None
    duration_min: int | None = None
    dog_ids: list[str] | None = None


_CHANGE = """
    SELECT id::text, booking_id::text, status, start_ts AS start, end_ts AS end,
           (extract(epoch FROM end_ts - start_ts) / 60)::int AS duration_min,
           (SELECT coalesce(array_agg(d::text ORDER BY d), '{}') FROM unnest(dog_ids) d) AS dog_ids,
           price AS quote, created_at, decided_at
      FROM booking_changes
"""


def _dogs_of(conn: db.Connection, booking_id: str) -> list[str]:
    return [
        row["dog_id"]
        for row in conn.execute(
            "SELECT dog_id::text FROM booking_dogs WHERE booking_id = %s ORDER BY dog_id", (booking_id,)
        ).fetchall()
    ]


def propose(booking_id: str, owner_id: str, wanted: Wanted, *,
            now: datetime | None = None) -> tuple[str, dict[str, Any]]:  # fmt: skip
    """The owner's change: ("booking", its view) when the booking was requested and changed at once,
    ("change", the proposal) when it was accepted and its walker is asked."""
    moment = now or datetime.now(UTC)
    require_id(booking_id, "booking")
    change_id = str(uuid.uuid4())
    new_intent: list[str] = []
    try:
        with db.transaction() as conn:
            booking = holds.locked(conn, booking_id, owner_id=owner_id)
            if booking is None:
                raise NotFound("No such booking.")
            if booking["status"] not in CHANGEABLE:
                raise InvalidState(f"A {booking['status']} booking cannot be changed.")
            quoted, walk = _quote(conn, booking, wanted, now=moment)
            conn.execute(
                "UPDATE booking_changes SET status = 'superseded', decided_at = %s, decided_by = %s"
                " WHERE booking_id = %s AND status = 'proposed'",
                (moment, owner_id, booking_id),
            )
            conn.execute(
                "INSERT INTO booking_changes (id, booking_id, proposed_by, status, start_ts, end_ts, dog_ids, price)"
                " VALUES (%s, %s, %s, 'proposed', %s, %s, %s, %s)",
                (change_id, booking_id, owner_id, walk.start, walk.start + timedelta(minutes=walk.duration_min),
                 walk.dog_ids, Jsonb(asdict(quoted))),
            )  # fmt: skip
            if booking["status"] == "requested":
                change = _locked_change(conn, booking_id, change_id)
                _apply(conn, booking, change, actor_id=owner_id, now=moment, owner_present=True, held=new_intent)
            else:
                _audit(conn, booking, owner_id, f"change {change_id} proposed")
                outbox.record(conn, "booking.change_proposed", booking["walker_id"], "walker",
                              {"booking_id": booking_id, "change_id": change_id, "start": walk.start.isoformat(),
                               "duration_min": walk.duration_min, "amount_cents": quoted.total_cents,
                               "currency": quoted.currency})  # fmt: skip
    except BaseException:
        _release(new_intent)
        raise
    if booking["status"] == "requested":
        return "booking", lifecycle.get(booking_id, owner_id, "owner")
    return "change", view(booking_id, change_id)


def accept(booking_id: str, change_id: str, walker_id: str, *, now: datetime | None = None) -> dict[str, Any]:
    """The walker takes the proposed change: the booking's new time, dogs and price, the hold
    adjusted; the owner hears of it. 409 `booking_conflict` when the new time overlaps another
    accepted walk of theirs (the exclusion constraint), 402 when the new hold declines: in both
    cases the booking and the change stay as they were."""
    moment = now or datetime.now(UTC)
    new_intent: list[str] = []
    try:
        with db.transaction() as conn:
            booking, change = _walkers_change(conn, booking_id, change_id, walker_id)
            if change["start"] <= moment:
                raise InvalidState("The change's new time has passed; the owner may propose another.")
            _apply(conn, booking, change, actor_id=walker_id, now=moment, owner_present=False, held=new_intent)
    except BaseException:
        _release(new_intent)
        raise
    return lifecycle.get(booking_id, walker_id, "walker")


def decline(booking_id: str, change_id: str, walker_id: str, *, now: datetime | None = None) -> dict[str, Any]:
    """The walker declines the proposed change: the booking stays as it is."""
    moment = now or datetime.now(UTC)
    with db.transaction() as conn:
        booking, _ = _walkers_change(conn, booking_id, change_id, walker_id)
        conn.execute(
            "UPDATE booking_changes SET status = 'declined', decided_at = %s, decided_by = %s WHERE id = %s",
            (moment, walker_id, change_id),
        )
        _audit(conn, booking, walker_id, f"change {change_id} declined")
    return view(booking_id, change_id)


def view(booking_id: str, change_id: str) -> dict[str, Any]:
    with db.transaction() as conn:
        row: dict[str, Any] | None = conn.execute(
            _CHANGE + " WHERE id = %s AND booking_id = %s", (change_id, booking_id)
        ).fetchone()
    if row is None:
        raise NotFound("No such change.")
    return row


def _walkers_change(conn: db.Connection, booking_id: str, change_id: str,
                    walker_id: str) -> tuple[dict[str, Any], dict[str, Any]]:  # fmt: skip
    """The booking (locked) and its open change, as its walker answers it; anyone else: not found."""
    require_id(booking_id, "booking")
    require_id(change_id, "change")
    booking = holds.locked(conn, booking_id)
    if booking is None or booking["walker_id"] != walker_id:
        raise NotFound("No such booking.")
    change = _locked_change(conn, booking_id, change_id)
    if booking["status"] != "accepted":
        raise InvalidState(f"A change of a {booking['status']} booking cannot be answered.")
    if change["status"] != "proposed":
        raise InvalidState(f"This change is {change['status']} already.")
    return booking, change


def _locked_change(conn: db.Connection, booking_id: str, change_id: str) -> dict[str, Any]:
    row: dict[str, Any] | None = conn.execute(
        _CHANGE + " WHERE id = %s AND booking_id = %s FOR UPDATE", (change_id, booking_id)
    ).fetchone()
    if row is None:
        raise NotFound("No such change.")
    return row


def _quote(conn: db.Connection, booking: dict[str, Any], wanted: Wanted, *,
           now: datetime) -> tuple[pricing.Quote, lifecycle.WalkRequest]:  # fmt: skip
    """The changed walk and its price, by every rule of a new request."""
    dogs = _dogs_of(conn, booking["id"])
    minutes = int((booking["end_ts"] - booking["start_ts"]).total_seconds() // 60)
    pickup = conn.execute(
        "SELECT pickup_lat, pickup_lon, pickup_address FROM bookings WHERE id = %s", (booking["id"],)
    ).fetchone()
    walk = lifecycle.WalkRequest(
        owner_id=booking["owner_id"],
        walker_id=booking["walker_id"],
        dog_ids=list(dict.fromkeys(wanted.dog_ids)) if wanted.dog_ids is not None else dogs,
        start=wanted.start or booking["start_ts"],
        duration_min=wanted.duration_min or minutes,
        pickup_lat=pickup["pickup_lat"] if pickup else 0.0,
        pickup_lon=pickup["pickup_lon"] if pickup else 0.0,
        pickup_address=pickup["pickup_address"] if pickup else None,
    )
    if (walk.start, walk.duration_min, sorted(d.lower() for d in walk.dog_ids)) == (booking["start_ts"], minutes, dogs):
        raise ValidationFailed("The change changes nothing.", errors=[{"loc": ["body"], "msg": "nothing to change"}])
    quoted, _ = lifecycle.quote_walk(walk, now=now, moving=booking["id"])
    return quoted, walk


def _apply(conn: db.Connection, booking: dict[str, Any], change: dict[str, Any], *, actor_id: str, now: datetime,
           owner_present: bool, held: list[str]) -> None:  # fmt: skip
    """Give the locked booking the change's time, dogs and price, and its hold the new price (a new
    hold's id appended to `held`, for the caller to release should the transaction not commit)."""
    booking_id, change_id = booking["id"], change["id"]
    previous = {"start": booking["start_ts"].isoformat(), "end": booking["end_ts"].isoformat(),
                "dog_ids": _dogs_of(conn, booking_id), "price": booking["price"]}  # fmt: skip
    _move(conn, booking, change)
    conn.execute("DELETE FROM booking_dogs WHERE booking_id = %s", (booking_id,))
    with conn.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO booking_dogs (booking_id, dog_id) VALUES (%s, %s)",
            [(booking_id, d) for d in change["dog_ids"]],
        )
    intent = _adjust_hold(conn, booking, change, now=now, owner_present=owner_present, held=held)
    conn.execute(
        "UPDATE booking_changes SET status = %s, decided_at = %s, decided_by = %s, previous = %s,"
        " payment_intent_id = %s WHERE id = %s",
        ("applied" if booking["status"] == "requested" else "accepted", now, actor_id, Jsonb(previous), intent,
         change_id),
    )  # fmt: skip
    _audit(conn, booking, actor_id, f"change {change_id} applied")
    told = {"booking_id": booking_id, "change_id": change_id, "start": change["start"].isoformat(),
            "previous_start": previous["start"], "amount_cents": change["quote"]["total_cents"],
            "currency": change["quote"]["currency"]}  # fmt: skip
    if booking["status"] == "accepted":  # the walker accepted: the owner hears of it
        outbox.record(conn, "booking.changed", booking["owner_id"], "owner", told)
    else:  # the owner changed their request: its walker hears of the request as it now is
        outbox.record(conn, "booking.changed", booking["walker_id"], "walker", told)


def _move(conn: db.Connection, booking: dict[str, Any], change: dict[str, Any]) -> None:
    """The booking's new time and price, or 409 `booking_conflict` from the exclusion constraint
    (a scheduled walk is moved under its walker's schedule lock, like an accept)."""
    if booking["status"] in lifecycle.SCHEDULED:
        lifecycle.lock_schedule(conn, booking["walker_id"])
    try:
        with conn.transaction():  # a savepoint: the constraint's refusal leaves the transaction usable
            conn.execute(  # a walk moved is not late at its new time because it was at the old one
                "UPDATE bookings SET start_ts = %s, end_ts = %s, price = %s, updated_at = now(),"
                " late_notified_at = CASE WHEN start_ts = %s THEN late_notified_at END WHERE id = %s",
                (change["start"], change["end"], Jsonb(change["quote"]), change["start"], booking["id"]),
            )
    except psycopg.errors.ExclusionViolation:
        raise Conflict("The walker already has an accepted walk at that time.", code="booking_conflict") from None


def _adjust_hold(conn: db.Connection, booking: dict[str, Any], change: dict[str, Any], *, now: datetime,
                 owner_present: bool, held: list[str]) -> str | None:  # fmt: skip
    """The booking's hold after its price or time changed (see the module's docstring); the new
    hold's id, if one was placed."""
    total, start, status = int(change["quote"]["total_cents"]), change["start"], booking["payment_status"]
    due = holds.due(start, now)
    if status == "authorized" and not due:  # no hold lives until then: it is placed again 5 days before
        gateway.check_saved_card(booking["owner_id"], booking["gateway_method"] or "", valid_through=start)
        gateway.void(booking["payment_intent_id"])
        conn.execute(
            "UPDATE bookings SET payment_status = 'scheduled', payment_intent_id = NULL, authorized_cents = 0,"
            " hold_attempts = hold_attempts + 1 WHERE id = %s",
            (booking["id"],),
        )
        return None
    if (
        status in ("authorized", "scheduled")
        and due
        and (status == "scheduled" or total != booking["authorized_cents"])
    ):
        if not booking["gateway_method"]:
            raise InvalidState("The booking has no card to hold its new price on.")
        intent = gateway.authorize(booking["owner_id"], booking["gateway_method"], total, booking["currency"],
                                   booking["id"], off_session=not owner_present, change_id=change["id"])  # fmt: skip
        held.append(intent)
        gateway.void(booking["payment_intent_id"])  # the old hold, once the new one stands
        conn.execute(
            "UPDATE bookings SET payment_status = 'authorized', payment_intent_id = %s, authorized_cents = %s,"
            " payment_deadline = NULL WHERE id = %s",
            (intent, total, booking["id"]),
        )
        return intent
    if status == "scheduled" and start > booking["start_ts"]:  # the card must last until the later walk
        gateway.check_saved_card(booking["owner_id"], booking["gateway_method"] or "", valid_through=start)
    if total != holds.price_of(booking) and status != "authorized":
        conn.execute("UPDATE bookings SET hold_attempts = hold_attempts + 1 WHERE id = %s", (booking["id"],))
    return None


def _audit(conn: db.Connection, booking: dict[str, Any], actor_id: str, reason: str) -> None:
    conn.execute(
        "INSERT INTO booking_transitions (booking_id, from_status, to_status, actor_id, reason)"
        " VALUES (%s, %s, %s, %s, %s)",
        (booking["id"], booking["status"], booking["status"], actor_id, reason),
    )


def _release(intents: list[str]) -> None:
    """Void the holds a change placed before its transaction failed (best effort: a hold left
    behind expires at the gateway after 7 days)."""
    for intent in intents:
        with contextlib.suppress(Exception):
            gateway.void(intent)
