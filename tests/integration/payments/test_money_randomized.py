"""The ledger after a seeded random run of 200 money operations through the real domain, on real
PostgreSQL and localstripe: requests (held at once within 5 days, by the hold job 5 days before
otherwise), answers, cancellations by either side at every distance from the start, walks started
and completed, tips, refunds made at the gateway and their webhooks, replayed events, retried
completions, the expiry sweep; holds that fail and are fixed with another card or cancel the walk
at their deadline; walkers onboarding to Connect, weekly transfers run concurrently (walkers not
onboarded keep their balance); disputes opened at the gateway and won or lost; support refunds
with their Idempotency-Key replayed and refused beyond what is left; requests changed at once and
accepted walks' changes accepted or declined by their walker (the hold replaced at the new price),
weekly series requested and ended from their first walk on by either side. The amounts posted come
from the code under test; the invariants are then checked with plain SQL on the tables (and
against localstripe), not through the code that wrote them.

The sequence of operations depends only on the seed (`DOGWALK_MONEY_SEED` overrides it); prices
also depend on the day the test runs (weekend surge), so a failure names the seed and the step."""

from __future__ import annotations

import os
import random
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from dogwalk.bookings import changes, holds, lifecycle, scheduled_holds, series
from dogwalk.bookings import no_show as no_shows
from dogwalk.payments import payouts
from tests.conftest import Dependencies
from tests.gateway_events import GatewayEvents
from tests.integration.bookings.conftest import EVERY_DAY, NEW_YORK, database_url, gateway, walk
from tests.integration.conftest import Api, assert_problem
from tests.integration.marketplace.conftest import Caller, create_dog, make_walker, new_caller, rows, run_sql
from tests.integration.payments.conftest import onboard
from tests.integration.payments.test_disputes import local_gateway
from tests.integration.payments.test_webhooks import deliver, event

DEFAULT_SEED = 20240611
SEED = int(os.environ.get("DOGWALK_MONEY_SEED", str(DEFAULT_SEED)))
STEPS = 200

CLEARING, REVENUE, REFUNDS, DISPUTES = "gateway:clearing", "platform:revenue", "platform:refunds", "platform:disputes"
OPERATIONS = {  # kind: weight (among the kinds that apply at that step)
    "request": 20,
    "accept": 14,
    "decline": 4,
    "cancel_by_owner": 9,
    "cancel_by_walker": 4,
    "start_and_complete": 12,
    "tip": 7,
    "refund_at_gateway": 6,
    "replayed_webhook": 5,
    "retried_completion": 4,
    "expiry_sweep": 3,
    "payout_run": 3,
    "fix_payment": 4,
    "unpaid_deadline": 2,
    "onboard": 2,
    "dispute": 3,
    "close_dispute": 3,
    "support_refund": 4,
    "change_request": 3,
    "change_accepted": 4,
    "request_series": 2,
    "end_series": 2,
    "no_show": 2,
}
SETTLED = ("cancelled", "declined", "expired", "completed")


def payable(walker_id: str) -> str:
    return f"walker:{walker_id}:payable"


def platform_share(charged: int, total: int, fee: int) -> int:
    """The platform's part of `charged` (as `lifecycle._share_of_fee` specifies it)."""
    if not charged:  # nothing charged (a walk never held has no authorized total either)
        return 0
    if charged >= total:
        return fee
    return round(charged * fee / total) if total else 0


@dataclass
class Booking:
    """What the test expects of one booking."""

    id: str
    owner: Caller
    walker: Caller
    start: datetime
    total: int
    fee: int
    minutes: int = 60
    series: str = ""
    status: str = "requested"
    captured: int = 0
    refunded_at_gateway: int = 0
    tip: int = 0
    tip_refunded: int = 0
    payment: str = "authorized"  # or "failed": the hold declined and waits for another card
    held: bool = True  # False: never held (failed, then cancelled at its deadline)
    dispute: str = ""  # the gateway's dispute id
    dispute_state: str = ""  # "open", "won" or "lost"
    disputed: int = 0

    def refundable(self) -> int:
        """What support or the gateway's dashboard may still refund of the booking's charge."""
        return 0 if self.dispute_state in ("open", "lost") else self.captured - self.refunded_at_gateway


@dataclass
class Run:
    api: Api
    rng: random.Random
    owners: list[Caller]
    walkers: list[Caller]
    cards: dict[str, str]
    dogs: dict[str, list[str]]
    slots: list[tuple[int, int, int]]
    booked: list[Booking] = field(default_factory=list)
    owed: Counter[str] = field(default_factory=Counter)  # walker id → what the test expects them to be owed
    delivered: list[str] = field(default_factory=list)  # webhook payloads, for replays
    refunds_made: int = 0
    refund_postings: int = 0
    payout_weeks: int = 0
    failing_owner: Caller | None = None  # whose saved card declines when a walk is held
    spare_cards: dict[str, str] = field(default_factory=dict)  # owner id → a card that holds
    onboarded: set[str] = field(default_factory=set)
    accounts: dict[str, str] = field(default_factory=dict)  # walker id → connected account
    events: GatewayEvents | None = None
    state: Dependencies | None = None
    admin: Caller | None = None
    disputes_held: int = 0  # what open and lost disputes took from the platform
    dispute_postings: int = 0
    done: Counter[str] = field(default_factory=Counter)
    cases: Counter[str] = field(default_factory=Counter)  # the variants within the kinds
    distances: list[int] = field(default_factory=list)  # hours before the start an owner cancels at

    # --- the operations ---------------------------------------------------------------------------

    def eligible(self) -> dict[str, list[Any]]:
        def having(*statuses: str) -> list[Booking]:
            return [b for b in self.booked if b.status in statuses]

        return {
            "request": [None] if self.slots else [],
            "accept": having("requested"),
            "decline": having("requested"),
            "cancel_by_owner": [b for b in having("requested", "accepted") if b.payment == "authorized"],
            "cancel_by_walker": [b for b in having("requested", "accepted") if b.payment == "authorized"],
            "start_and_complete": [b for b in having("accepted") if b.payment == "authorized"],
            "tip": [b for b in having("completed") if not b.tip],
            "refund_at_gateway": [
                (b, "walk" if b.status == "completed" else "cancellation") for b in self.booked if b.refundable() > 0
            ]
            + [(b, "tip") for b in self.booked if b.tip > b.tip_refunded],
            "replayed_webhook": [None] if self.delivered or having("completed") else [],
            "retried_completion": having("completed"),
            "expiry_sweep": sorted(having("requested"), key=lambda b: b.start)[:2],
            "payout_run": [None] if any(self.owed.values()) else [],
            "fix_payment": [b for b in having("requested", "accepted") if b.payment == "failed"],
            "unpaid_deadline": [b for b in having("requested", "accepted") if b.payment == "failed"],
            "onboard": [w for w in self.walkers if w.id not in self.onboarded],
            "dispute": [b for b in having("completed") if not b.dispute and b.refundable() > 0],
            "close_dispute": [b for b in self.booked if b.dispute_state == "open"],
            "support_refund": [b for b in having("completed", "cancelled") if b.refundable() > 0],
            "change_request": [b for b in having("requested") if b.payment == "authorized"],
            "change_accepted": [b for b in having("accepted") if b.payment == "authorized"],
            "request_series": [None] if self.series_slots() else [],
            "end_series": sorted({b.series for b in having("requested", "accepted") if b.series}),
            "no_show": having("accepted"),
        }

    def step(self) -> tuple[str, Any]:
        candidates = {kind: found for kind, found in self.eligible().items() if found}
        kinds = sorted(candidates)
        kind = self.rng.choices(kinds, weights=[OPERATIONS[k] for k in kinds])[0]
        subject = self.rng.choice(candidates[kind])
        if kind == "cancel_by_owner":  # mostly where the policy bites
            accepted = [b for b in candidates[kind] if b.status == "accepted"]
            if accepted and self.rng.random() < 0.75:
                subject = self.rng.choice(accepted)
        if kind == "refund_at_gateway":  # a walk's charge, a cancellation's or a tip, alike
            of = self.rng.choice(sorted({what for _, what in candidates[kind]}))
            subject = self.rng.choice([pair for pair in candidates[kind] if pair[1] == of])
        getattr(self, kind)(subject)
        self.done[kind] += 1
        return kind, subject

    def request(self, _: None, owner: Caller | None = None, days: range | None = None) -> Booking:
        free = [slot for slot in self.slots if days is None or slot[0] in days]
        day, hour, minute = slot = free[self.rng.randrange(len(free))]
        self.slots.remove(slot)
        owner, walker = owner or self.rng.choice(self.owners), self.rng.choice(self.walkers)
        if owner is self.failing_owner and day <= 6:  # its card is only tried by the hold job
            owner = self.owners[0]
        date = (datetime.now(NEW_YORK) + timedelta(days=day)).date()
        start = datetime(date.year, date.month, date.day, hour, minute, tzinfo=NEW_YORK)
        dogs = self.rng.sample(self.dogs[owner.id], self.rng.choice([1, 1, 2]))
        body = {**walk(walker, dogs, start, duration_min=self.rng.choice([30, 45, 60, 90])),
                "payment_method_id": self.cards[owner.id]}  # fmt: skip
        answer = self.api.post("/v1/bookings", json_body=body, token=owner.token)
        assert answer.status == 201, answer.body
        made = answer.json()
        price = made["price"]
        booking = Booking(made["id"], owner, walker, datetime.fromisoformat(made["start"]), price["total_cents"],
                          price["service_fee_cents"], body["duration_min"])  # fmt: skip
        self.booked.append(booking)
        # a walk more than 5 days ahead is held by the job 5 days before it: the run of then, at once
        # (every later operation happens at or after that moment, and finds the walk held or failed)
        self.hold_job(booking.start - holds.HOLD_AHEAD)
        if owner is self.failing_owner:
            assert booking.payment == "failed", booking
            self.cases["hold declined by the job"] += 1
        return booking

    def series_slots(self) -> list[tuple[tuple[int, int, int], tuple[int, int, int]]]:
        """Pairs of free slots a week apart at the same hour (a series of two walks)."""
        free = {(day, hour): slot for slot in self.slots for day, hour, _ in [slot]}
        return [(slot, free[(day + 7, hour)]) for (day, hour), slot in sorted(free.items()) if (day + 7, hour) in free]

    def request_series(self, _: None) -> None:
        """A weekly series of two walks (each held on its own schedule, by the job's runs then)."""
        pairs = self.series_slots()
        first, second = pairs[self.rng.randrange(len(pairs))]
        self.slots.remove(first)
        self.slots.remove(second)
        owner, walker = self.owners[self.rng.randrange(3)], self.rng.choice(self.walkers)  # cards that hold
        date = (datetime.now(NEW_YORK) + timedelta(days=first[0])).date()
        start = datetime(date.year, date.month, date.day, first[1], first[2], tzinfo=NEW_YORK)
        minutes = self.rng.choice([30, 60, 90])
        body = {**walk(walker, self.rng.sample(self.dogs[owner.id], 1), start, duration_min=minutes),
                "payment_method_id": self.cards[owner.id], "recurrence": {"weekly_count": 2}}  # fmt: skip
        answer = self.api.post("/v1/bookings", json_body=body, token=owner.token)
        assert answer.status == 201, answer.body
        found = self.api.get(f"/v1/series/{answer.json()['series_id']}", token=owner.token)
        assert found.status == 200 and len(found.json()["bookings"]) == 2, found.body
        for made in found.json()["bookings"]:
            price = made["price"]
            self.booked.append(Booking(made["id"], owner, walker, datetime.fromisoformat(made["start"]),
                                       price["total_cents"], price["service_fee_cents"], minutes,
                                       series=made["series_id"]))  # fmt: skip
        self.hold_job(self.booked[-1].start - holds.HOLD_AHEAD)  # the job's run then holds both

    def end_series(self, series_id: str) -> None:
        """The owner (10 h before its next walk: that walk by the policy) or the walker ends a series."""
        walks = [b for b in self.booked if b.series == series_id and b.status in ("requested", "accepted")]
        first = min(walks, key=lambda b: b.start)
        by_owner = self.rng.random() < 0.6
        moment = first.start - timedelta(hours=10)
        caller = first.owner if by_owner else first.walker
        ended = series.cancel(series_id, caller.id, None, now=moment)
        refunds = {each["id"]: each["refund_cents"] for each in ended["bookings"]}
        for booking in walks:
            charge = 0
            if by_owner and booking.status == "accepted" and booking.payment == "authorized":
                charge = lifecycle.cancellation_charge(booking.total, status="accepted", by_owner=True,
                                                       start=booking.start, now=moment)  # fmt: skip
            assert refunds[booking.id] == booking.total - charge, (booking, refunds)
            self.charged(booking, charge, "cancelled")
        self.cases[f"series ended by its {'owner' if by_owner else 'walker'}"] += 1

    def change_request(self, booking: Booking) -> None:
        """The owner changes a request's duration: re-quoted, its hold replaced if the total moved."""
        minutes = self.rng.choice([m for m in (30, 45, 60, 90) if m != booking.minutes])
        moment = booking.start - holds.HOLD_AHEAD + timedelta(hours=1)  # after the hold was placed
        kind, changed = changes.propose(booking.id, booking.owner.id, changes.Wanted(duration_min=minutes), now=moment)
        assert kind == "booking" and changed["status"] == "requested", changed
        booking.total, booking.fee = changed["price"]["total_cents"], changed["price"]["service_fee_cents"]
        booking.minutes = minutes
        self.cases["request changed"] += 1

    def change_accepted(self, booking: Booking, may_decline: bool = True) -> None:
        """The owner proposes a new duration for an accepted walk; its walker accepts (or declines)."""
        minutes = self.rng.choice([m for m in (30, 45, 60, 90) if m != booking.minutes])
        moment = booking.start - holds.HOLD_AHEAD + timedelta(hours=1)
        kind, made = changes.propose(booking.id, booking.owner.id, changes.Wanted(duration_min=minutes), now=moment)
        assert kind == "change" and made["status"] == "proposed", made
        if self.rng.random() < 0.25 and may_decline:
            assert changes.decline(booking.id, made["id"], booking.walker.id, now=moment)["status"] == "declined"
            self.cases["change declined"] += 1
            return
        changed = changes.accept(booking.id, made["id"], booking.walker.id, now=moment)
        assert changed["price"] == made["quote"], changed
        booking.total, booking.fee = changed["price"]["total_cents"], changed["price"]["service_fee_cents"]
        booking.minutes = minutes
        self.cases["change accepted"] += 1

    def cover(self) -> None:
        """After the random steps, each kind of operation the seed never came to, done now on a
        booking made for it (its amounts and choices still the seed's), so that every seed checks
        every operation, and both outcomes of a dispute."""
        near, far = range(2, 5), range(7, 86)

        def completed() -> Booking:
            booking = self.request(None, owner=self.owners[0], days=near)
            self.accept(booking)
            self.start_and_complete(booking)
            return booking

        for kind in OPERATIONS:
            if self.done[kind]:
                continue
            found = self.eligible()[kind]
            if kind in ("fix_payment", "unpaid_deadline") and not found:
                found = [self.request(None, owner=self.failing_owner, days=far)]
            elif kind in ("dispute", "tip", "support_refund", "retried_completion") and not found:
                found = [completed()]
            elif kind == "close_dispute" and not found:
                self.dispute(completed())
                found = self.eligible()[kind]
            elif kind == "end_series" and not found:
                self.request_series(None)
                found = self.eligible()[kind]
            elif kind == "change_accepted" and not found:
                booking = self.request(None, owner=self.owners[0], days=near)
                self.accept(booking)
                found = [booking]
            elif (
                kind in ("accept", "decline", "cancel_by_owner", "cancel_by_walker", "expiry_sweep", "change_request")
                and not found
            ):
                found = [self.request(None, owner=self.owners[0], days=near)]
            elif kind in ("start_and_complete", "no_show") and not found:
                booking = self.request(None, owner=self.owners[0], days=near)
                self.accept(booking)
                found = [booking]
            if kind == "refund_at_gateway" and not found:
                found = [(completed(), "walk")]
            if not found:
                continue  # onboard with every walker onboarded; a payout run with nothing owed
            subject = self.rng.choice(found)
            getattr(self, kind)(subject)
            self.done[kind] += 1
        for outcome in ("won", "lost"):
            if not self.cases[f"dispute {outcome}"]:
                booking = completed()
                self.dispute(booking)
                self.close_dispute(booking, outcome)
        if not self.cases["change accepted"]:  # only declined so far
            booking = self.request(None, owner=self.owners[0], days=near)
            self.accept(booking)
            self.change_accepted(booking, may_decline=False)

    def hold_job(self, moment: datetime) -> None:
        """The hold job at `moment`, run twice at once (one hold per booking whatever the runs);
        then what it did to every booking, read back: held, failed, or cancelled unpaid."""
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda _: scheduled_holds.run(now=moment), range(2)))
        for booking in self.booked:
            if booking.status not in ("requested", "accepted"):
                continue
            status, payment = self.status_of(booking)
            if payment == "failed":
                booking.payment = "failed"
            if status == "cancelled":  # its deadline passed: nothing was ever held, nothing charged
                assert booking.payment == "failed", booking
                booking.status, booking.held = "cancelled", False
                self.cases["unpaid walk cancelled at its deadline"] += 1

    @staticmethod
    def status_of(booking: Booking) -> tuple[str, str]:
        row = rows(database_url(), "SELECT status, payment_status FROM bookings WHERE id = %s", booking.id)[0]
        return str(row["status"]), str(row["payment_status"])

    def fix_payment(self, booking: Booking) -> None:
        card = self.spare_cards[booking.owner.id]
        answer = self.api.post(f"/v1/bookings/{booking.id}/payment-method", json_body={"payment_method_id": card},
                               token=booking.owner.token)  # fmt: skip
        assert answer.status == 200 and answer.json()["payment"]["status"] == "authorized", answer.body
        booking.payment = "authorized"

    def no_show(self, booking: Booking) -> None:
        """The walker never starts: the sweep an hour after the start cancels it, the hold released in full."""
        moment = booking.start + no_shows.NO_SHOW_AFTER + timedelta(minutes=1)
        assert no_shows.cancel_no_show(booking.id, now=moment) == "cancelled", booking
        self.charged(booking, 0, "cancelled")

    def unpaid_deadline(self, booking: Booking) -> None:
        deadline = rows(database_url(), "SELECT payment_deadline FROM bookings WHERE id = %s", booking.id)[0]
        self.hold_job(deadline["payment_deadline"] + timedelta(minutes=1))
        assert booking.status == "cancelled", booking

    def onboard(self, walker: Caller) -> None:
        assert self.state is not None and self.events is not None
        self.accounts[walker.id] = onboard(self.api, self.state, self.events, walker)
        self.onboarded.add(walker.id)

    def dispute(self, booking: Booking) -> None:
        """The owner's bank disputes part or all of what is left of the walk's charge."""
        amount = self.part(booking.refundable())
        opened = local_gateway("/_local/disputes", {"payment_intent": intent_of(booking.id), "amount": amount})
        answer = deliver(self.api, event("charge.dispute.created", opened))
        assert answer.status == 200 and answer.json()["outcome"] == "dispute opened", answer.body
        booking.dispute, booking.dispute_state, booking.disputed = opened["id"], "open", amount
        self.disputes_held += amount
        self.dispute_postings += 1
        assert self.status_of(booking)[1] == "disputed"

    def close_dispute(self, booking: Booking, outcome: str | None = None) -> None:
        outcome = outcome or self.rng.choice(["won", "lost"])
        closed = local_gateway(f"/_local/disputes/{booking.dispute}/close", {"outcome": outcome})
        answer = deliver(self.api, event("charge.dispute.closed", closed))
        assert answer.status == 200 and answer.json()["outcome"] == f"dispute {outcome}", answer.body
        booking.dispute_state = outcome
        if outcome == "won":  # the money comes back; the payment is as it was
            self.disputes_held -= booking.disputed
            self.dispute_postings += 1
        self.cases[f"dispute {outcome}"] += 1

    def support_refund(self, booking: Booking) -> None:
        """Support refunds part of what is left (once refused for a cent more than is left), with an
        Idempotency-Key that a retry sends again."""
        assert self.admin is not None
        left = booking.refundable()
        path = f"/v1/admin/bookings/{booking.id}/refund"
        if self.rng.random() < 0.2:
            beyond = {"amount_cents": left + 1, "reason": "too much"}
            too_much = self.api.post(path, json_body=beyond, token=self.admin.token,
                                     headers={"Idempotency-Key": str(uuid.uuid4())})  # fmt: skip
            assert_problem(too_much, 422, "validation_error")
            self.cases["support refund beyond what is left"] += 1
        amount = self.part(left)
        body, key = {"amount_cents": amount, "reason": "walker was late"}, {"Idempotency-Key": str(uuid.uuid4())}
        answer = self.api.post(path, json_body=body, token=self.admin.token, headers=key)
        assert answer.status == 200, answer.body
        if self.rng.random() < 0.3:  # the client's retry: the first answer, nothing refunded twice
            again = self.api.post(path, json_body=body, token=self.admin.token, headers=key)
            assert again.status == 200 and again.json() == answer.json(), again.body
            self.cases["support refund replayed"] += 1
        booking.refunded_at_gateway += amount
        self.refunds_made += amount
        self.refund_postings += 1

    def accept(self, booking: Booking) -> None:
        answer = self.api.post(f"/v1/bookings/{booking.id}/accept", token=booking.walker.token)
        assert answer.status == 200 and answer.json()["status"] == "accepted", answer.body
        booking.status = "accepted"

    def decline(self, booking: Booking) -> None:
        answer = self.api.post(f"/v1/bookings/{booking.id}/decline", json_body={}, token=booking.walker.token)
        assert answer.status == 200 and answer.json()["status"] == "declined", answer.body
        booking.status = "declined"
        booking.held = booking.payment == "authorized"

    def cancel_by_owner(self, booking: Booking) -> None:
        if booking.status == "accepted":  # free, half, all: in turns, in random order
            if not self.distances:
                self.distances = self.rng.sample([30, 10, 1], 3)
            hours = self.distances.pop()
        else:
            hours = self.rng.choice([30, 10, 1])
        cancelled = lifecycle.cancel(booking.id, booking.owner.id, None, now=booking.start - timedelta(hours=hours))
        charge = 0
        if booking.status == "accepted":
            charge = 0 if hours >= 24 else (booking.total + 1) // 2 if hours >= 2 else booking.total
        assert (cancelled["status"], cancelled["refund_cents"]) == ("cancelled", booking.total - charge)
        self.cases[f"owner cancels {booking.status} {hours} h ahead"] += 1
        self.charged(booking, charge, "cancelled")

    def cancel_by_walker(self, booking: Booking) -> None:
        answer = self.api.post(f"/v1/bookings/{booking.id}/cancel", json_body={"reason": "sick"},
                               token=booking.walker.token)  # fmt: skip
        assert answer.status == 200, answer.body
        assert (answer.json()["status"], answer.json()["refund_cents"]) == ("cancelled", booking.total)
        booking.status = "cancelled"

    def start_and_complete(self, booking: Booking) -> None:
        # the walk is near: move it (creation refuses times outside the walker's hours)
        run_sql(database_url(), "UPDATE bookings SET start_ts = now() + interval '5 minutes',"
                " end_ts = now() + interval '65 minutes' WHERE id = %s", booking.id)  # fmt: skip
        started = self.api.post(f"/v1/bookings/{booking.id}/start", token=booking.walker.token)
        assert started.status == 200 and started.json()["status"] == "in_progress", started.body
        completed = self.api.post(f"/v1/bookings/{booking.id}/complete", token=booking.walker.token)
        assert completed.status == 200 and completed.json()["status"] == "completed", completed.body
        self.charged(booking, booking.total, "completed")

    def charged(self, booking: Booking, amount: int, status: str) -> None:
        booking.status, booking.captured = status, amount
        self.owed[booking.walker.id] += amount - platform_share(amount, booking.total, booking.fee)

    def tip(self, booking: Booking) -> None:
        amount = self.rng.randint(100, 5000)
        answer = self.api.post(f"/v1/bookings/{booking.id}/tip", json_body={"amount_cents": amount},
                               token=booking.owner.token)  # fmt: skip
        assert answer.status == 201 and answer.json()["amount_cents"] == amount, answer.body
        booking.tip = amount
        self.owed[booking.walker.id] += amount

    def refund_at_gateway(self, subject: tuple[Booking, str]) -> None:
        """Support refunds part of a booking's charge or of its tip at the gateway, once or twice
        before the gateway's `charge.refunded` events arrive, in any order; each records what is new."""
        booking, of = subject
        if of == "tip":
            left, intent = booking.tip - booking.tip_refunded, tip_intent_of(booking.id)
        else:
            left, intent = booking.captured - booking.refunded_at_gateway, intent_of(booking.id)
        amounts = [self.part(left)]
        if left - amounts[0] > 0 and self.rng.random() < 0.3:
            amounts.append(self.part(left - amounts[0]))
        snapshots = []
        for amount in amounts:
            gateway().v1.refunds.create(params={"payment_intent": intent, "amount": amount})
            charge = gateway().v1.payment_intents.retrieve(intent, params={"expand": ["latest_charge"]}).latest_charge
            snapshots.append((charge.amount_refunded, event("charge.refunded", charge)))
        self.rng.shuffle(snapshots)
        newest = -1
        for refunded, payload in snapshots:
            answer = deliver(self.api, payload)
            outcome = "refund recorded" if refunded > newest else "already recorded"
            assert answer.status == 200 and answer.json()["outcome"] == outcome, answer.body
            self.refund_postings += outcome == "refund recorded"
            newest = max(newest, refunded)
            self.delivered.append(payload)
        whole = "whole" if sum(amounts) == left else "part"
        self.cases[f"refund of {whole} of a {of}" + (", twice before the events" if len(amounts) > 1 else "")] += 1
        if of == "tip":
            booking.tip_refunded += sum(amounts)
        else:
            booking.refunded_at_gateway += sum(amounts)
        self.refunds_made += sum(amounts)

    def part(self, left: int) -> int:
        share = self.rng.random()  # one draw whatever `left` is: the sequence depends on the seed only
        return left if share < 0.2 else 1 + int((share - 0.2) / 0.8 * left)

    def replayed_webhook(self, _: None) -> None:
        before = ledger_transactions()
        captured = [b for b in self.booked if b.status == "completed"]
        if self.delivered and (not captured or self.rng.random() < 0.6):  # the very same event again
            payload, outcome = self.rng.choice(self.delivered), "duplicate"
        else:  # a new event about a capture that is recorded already
            booking = self.rng.choice(captured)
            payload = event("payment_intent.succeeded", gateway().v1.payment_intents.retrieve(intent_of(booking.id)))
            outcome = "already recorded"
        answer = deliver(self.api, payload)
        assert answer.status == 200 and answer.json()["outcome"] == outcome, answer.body
        assert ledger_transactions() == before
        self.cases[f"webhook {outcome}"] += 1

    def retried_completion(self, booking: Booking) -> None:
        before = ledger_transactions()
        assert_problem(self.api.post(f"/v1/bookings/{booking.id}/complete", token=booking.walker.token), 409,
                       "invalid_state")  # fmt: skip
        assert ledger_transactions() == before

    def expiry_sweep(self, booking: Booking) -> None:
        moment = booking.start + timedelta(minutes=1)
        due = [b for b in self.booked if b.status == "requested" and b.start <= moment]
        held = [b for b in due if b.payment == "authorized"]  # a failed payment holds nothing to release
        assert lifecycle.expire_and_release(now=moment) == {"expired": len(due), "released": len(held)}
        for each in due:
            each.status = "expired"
            each.held = each.payment == "authorized"

    def payout_run(self, _: None) -> None:
        moment = datetime.now(UTC) + timedelta(hours=49, weeks=self.payout_weeks)
        self.payout_weeks += 1
        owed = {walker: cents for walker, cents in self.owed.items() if cents and walker in self.onboarded}
        runs = self.rng.choice([1, 3])  # the weekly job, sometimes run three times at once
        with ThreadPoolExecutor(runs) as pool:
            outcomes = list(pool.map(lambda _: payouts.pay_out_all(now=moment), range(runs)))
        paid = sum(outcome["paid_cents"] for outcome in outcomes)
        assert (paid, sum(outcome["failed"] for outcome in outcomes)) == (sum(owed.values()), 0)
        self.cases[f"payout run x{runs}"] += 1
        for walker in owed:
            del self.owed[walker]
        still = rows(database_url(), "SELECT account_id FROM ledger_entries WHERE account_id LIKE 'walker:%%'"
                     " GROUP BY account_id HAVING sum(amount_cents) <> 0")  # fmt: skip
        assert sorted(row["account_id"] for row in still) == sorted(payable(w) for w, c in self.owed.items() if c)


# --- reading the tables --------------------------------------------------------------------------


def intent_of(booking_id: str) -> str:
    return str(rows(database_url(), "SELECT payment_intent_id FROM bookings WHERE id = %s", booking_id)[0][
        "payment_intent_id"])  # fmt: skip


def tip_intent_of(booking_id: str) -> str:
    return str(rows(database_url(), "SELECT payment_intent_id FROM tips WHERE booking_id = %s", booking_id)[0][
        "payment_intent_id"])  # fmt: skip


def postings_of(account: str) -> list[dict[str, Any]]:
    """The account's entries with their transactions, for a failure's message."""
    return rows(database_url(), "SELECT t.kind, t.reference, e.amount_cents FROM ledger_entries e JOIN"
                " ledger_transactions t ON t.id = e.transaction_id WHERE e.account_id = %s ORDER BY e.id",
                account)  # fmt: skip


def ledger_transactions() -> int:
    return int(rows(database_url(), "SELECT count(*) AS n FROM ledger_transactions")[0]["n"])


def balances() -> dict[str, int]:
    found = rows(database_url(), "SELECT account_id, sum(amount_cents)::bigint AS cents FROM ledger_entries"
                 " GROUP BY account_id")  # fmt: skip
    return {row["account_id"]: int(row["cents"]) for row in found}


BOOKINGS = """
    SELECT id::text, walker_id::text, status, payment_status, payment_intent_id, authorized_cents, captured_cents,
           refunded_cents, charge_refunded_cents, tip_cents,
           (price->>'total_cents')::int AS total, (price->>'service_fee_cents')::int AS fee
      FROM bookings
"""


def one(sql: str, *params: Any) -> int:
    return int(next(iter(rows(database_url(), sql, *params)[0].values())) or 0)


# --- the test ------------------------------------------------------------------------------------


def test_the_ledger_balances_after_200_random_operations(
    api: Api, state: Dependencies, gateway_events: GatewayEvents, admin: Caller
) -> None:
    began = time.monotonic()
    rng = random.Random(SEED)
    walkers = [make_walker(api, state, admin, weekly=EVERY_DAY, price_cents_per_30min=price)
               for price in (2000, 2345, 3111)]  # fmt: skip
    owners = [new_caller(state, "owner") for _ in range(4)]
    cards, spare, dogs = {}, {}, {}
    for number, owner in enumerate(owners):  # the last one's card saves, then declines when held

        def save(token: str, who: Caller = owner) -> str:
            saved = api.post("/v1/payments/methods", json_body={"gateway_token": token}, token=who.token)
            assert saved.status == 201, saved.body
            return str(saved.json()["id"])

        cards[owner.id] = save("pm_card_chargeCustomerFail" if number == 3 else "pm_card_visa")
        spare[owner.id] = save("pm_card_visa") if number == 3 else cards[owner.id]
        dogs[owner.id] = [create_dog(api, owner)["id"] for _ in range(2)]
    # one walk per slot at most, whoever walks it: no request can overlap another (2 to 85 days
    # ahead, starts 08:00-16:30 New York time, walks of at most 90 minutes within the 2-hour block)
    slots = [(day, hour, rng.choice((0, 15, 30))) for day in range(2, 86) for hour in (8, 10, 12, 14, 16)]
    run = Run(api, rng, owners, walkers, cards, dogs, slots, failing_owner=owners[3], spare_cards=spare,
              events=gateway_events, state=state, admin=admin)  # fmt: skip
    run.onboard(walkers[0])  # the others onboard during the run: until then their balance waits

    for number in range(1, STEPS + 1):
        try:
            run.step()
        except BaseException as failure:
            failure.add_note(f"seed {SEED}, step {number}; done so far: {dict(run.done)}")
            raise
    try:
        run.cover()
    except BaseException as failure:
        failure.add_note(f"seed {SEED}, covering what the steps left undone: {dict(run.done)}")
        raise
    ran_for = time.monotonic() - began
    print(f"\nseed {SEED}: {STEPS} operations in {ran_for:.1f} s: {dict(sorted(run.done.items()))}")
    print("bookings by status:", dict(Counter(b.status for b in run.booked)))
    print("cases:", dict(sorted(run.cases.items())))

    check_invariants(api, admin, run)
    for walker in run.walkers:  # the gateway moved what the ledger paid out, one transfer a payout
        if walker.id not in run.accounts:
            assert not rows(database_url(), "SELECT 1 FROM payouts WHERE walker_id = %s AND status = 'paid'", walker.id)
            continue
        transfers = gateway().v1.transfers.list(params={"destination": run.accounts[walker.id], "limit": 100}).data
        paid = rows(database_url(), "SELECT amount_cents, transfer_id FROM payouts WHERE walker_id = %s"
                    " AND status = 'paid'", walker.id)  # fmt: skip
        assert sorted((t.id, t.amount) for t in transfers) == sorted(
            (p["transfer_id"], p["amount_cents"]) for p in paid
        )
    assert set(run.done) >= set(OPERATIONS) - {"onboard"}, f"never done: {set(OPERATIONS) - set(run.done)}"
    assert {"dispute won", "dispute lost", "hold declined by the job", "request changed", "change accepted"} <= set(
        run.cases
    )
    assert any(case.startswith("series ended by its") for case in run.cases)
    if SEED == DEFAULT_SEED:  # the variants within the kinds this seed is known to reach
        for case in ("owner cancels accepted 30 h ahead", "owner cancels accepted 10 h ahead",
                     "owner cancels accepted 1 h ahead", "owner cancels requested", "refund of part of a walk",
                     "refund of part of a cancellation", "refund of part of a tip", "webhook duplicate",
                     "webhook already recorded", "payout run x3", "unpaid walk cancelled at its deadline",
                     "support refund"):  # fmt: skip
            assert any(seen.startswith(case) for seen in run.cases), f"never done: {case}"


def check_invariants(api: Api, admin: Caller, run: Run) -> None:
    url = database_url()
    held = balances()

    # 1. the trial balance sums to 0, and so does every transaction (of two entries or more)
    assert sum(held.values()) == 0
    assert rows(url, "SELECT t.id FROM ledger_transactions t LEFT JOIN ledger_entries e ON e.transaction_id = t.id"
                " GROUP BY t.id HAVING coalesce(sum(e.amount_cents), 0) <> 0 OR count(e.id) < 2") == []  # fmt: skip
    trial = api.get("/v1/admin/ledger/trial-balance", token=admin.token)
    assert trial.status == 200 and trial.json()["total_cents"] == 0, trial.body

    # the bookings as the tables have them, and the platform's share of each charge
    booked = rows(url, BOOKINGS)
    assert len(booked) == len(run.booked)
    shares = {b["id"]: platform_share(b["captured_cents"], b["authorized_cents"], b["fee"]) for b in booked}
    tips = rows(url, "SELECT booking_id::text, walker_id::text, amount_cents, refunded_cents FROM tips"
                " WHERE status = 'succeeded'")  # fmt: skip
    paid_out = rows(url, "SELECT walker_id::text, amount_cents - reversed_cents AS amount_cents FROM payouts"
                    " WHERE status = 'paid'")  # fmt: skip

    # 2. each walker is owed their charges less the platform's share, plus their tips, less their payouts
    for walker in run.walkers:
        earned = sum(b["captured_cents"] - shares[b["id"]] for b in booked if b["walker_id"] == walker.id)
        tipped = sum(t["amount_cents"] for t in tips if t["walker_id"] == walker.id)
        paid = sum(p["amount_cents"] for p in paid_out if p["walker_id"] == walker.id)
        assert -held.get(payable(walker.id), 0) == earned + tipped - paid, postings_of(payable(walker.id))
        assert -held.get(payable(walker.id), 0) == run.owed[walker.id], walker.id  # the test's own account

    # 3. the gateway clearing account: charges and tips in, refunds and payouts out
    captured = sum(b["captured_cents"] for b in booked)
    refunded = sum(b["charge_refunded_cents"] for b in booked) + sum(t["refunded_cents"] for t in tips)
    all_tips, all_payouts = sum(t["amount_cents"] for t in tips), sum(p["amount_cents"] for p in paid_out)
    assert held.get(CLEARING, 0) == captured + all_tips - refunded - all_payouts - run.disputes_held

    # 4. the platform earns its shares; its refunds account holds what was refunded at the gateway
    assert held.get(REVENUE, 0) == -sum(shares.values())
    assert held.get(REFUNDS, 0) == run.refunds_made == refunded
    # ... and what open and lost disputes took is the platform's, never the walker's
    assert (
        held.get(DISPUTES, 0)
        == run.disputes_held
        == one("SELECT sum(amount_cents) FROM disputes WHERE status <> 'won'")
    )

    # 5. each booking: its money adds up, agrees with what the test did and with the gateway
    expected = {b.id: b for b in run.booked}
    for row in booked:
        mine = expected[row["id"]]
        if not mine.held or mine.payment == "failed":  # the hold declined: nothing held, nothing charged
            assert (row["status"], row["captured_cents"], row["tip_cents"]) == (mine.status, 0, 0), row
            assert row["payment_status"] == ("failed" if mine.status in ("requested", "accepted") else "voided"), row
            if row["payment_intent_id"]:
                declined = gateway().v1.payment_intents.retrieve(row["payment_intent_id"])
                assert declined.status not in ("succeeded", "requires_capture"), row
            continue
        assert row["authorized_cents"] == row["total"] == mine.total, row
        assert (row["status"], row["captured_cents"], row["charge_refunded_cents"], row["tip_cents"]) == (
            mine.status, mine.captured, mine.refunded_at_gateway, mine.tip), row  # fmt: skip
        if row["status"] in SETTLED:
            assert row["authorized_cents"] == (
                row["captured_cents"] + row["refunded_cents"] - row["charge_refunded_cents"]), row  # fmt: skip
        else:
            assert (row["payment_status"], row["captured_cents"], row["refunded_cents"]) == ("authorized", 0, 0), row
        intent = gateway().v1.payment_intents.retrieve(row["payment_intent_id"], params={"expand": ["latest_charge"]})
        assert intent.amount == row["authorized_cents"], row
        if row["status"] in ("requested", "accepted", "in_progress"):
            assert intent.status == "requires_capture", row
        elif row["payment_status"] == "voided":
            assert (intent.status, row["captured_cents"]) == ("canceled", 0), row
        else:
            assert row["payment_status"] in ("captured", "partially_refunded", "refunded", "disputed"), row
            assert (row["payment_status"] == "disputed") == (mine.dispute_state in ("open", "lost")), row
            assert intent.status == "succeeded", row
            # what the gateway kept of the charge is what we captured less the refunds we recorded
            charge = intent.latest_charge
            assert charge.amount - charge.amount_refunded == row["captured_cents"] - row["charge_refunded_cents"], row

    # ... and each tip: what the test charged and refunded, what the gateway kept of it
    assert len(tips) == sum(1 for b in run.booked if b.tip)
    for tipped in tips:
        mine = expected[tipped["booking_id"]]
        assert (tipped["amount_cents"], tipped["refunded_cents"]) == (mine.tip, mine.tip_refunded), tipped
        intent = gateway().v1.payment_intents.retrieve(tip_intent_of(mine.id), params={"expand": ["latest_charge"]})
        assert (intent.status, intent.amount) == ("succeeded", mine.tip), tipped
        assert intent.latest_charge.amount - intent.latest_charge.amount_refunded == mine.tip - mine.tip_refunded

    # 6. every operation posted once: one charge per charged booking, one per tip, refund and payout
    assert rows(url, "SELECT reference FROM ledger_transactions GROUP BY reference HAVING count(*) > 1") == []
    kinds = {r["kind"]: r["n"] for r in rows(url, "SELECT kind, count(*) AS n FROM ledger_transactions GROUP BY kind")}
    assert kinds.get("capture", 0) == sum(1 for b in booked if b["captured_cents"])
    assert kinds.get("tip", 0) == len(tips)
    assert kinds.get("refund", 0) == run.refund_postings
    assert kinds.get("payout", 0) == len(paid_out)  # no transfer here is reversed
    assert kinds.get("adjustment", 0) == run.dispute_postings  # a dispute's withdrawal, and a won one's return
    for row in booked:  # the charge posted under the booking's reference is the amount captured
        posted = one("SELECT sum(e.amount_cents) FROM ledger_entries e JOIN ledger_transactions t"
                     " ON t.id = e.transaction_id WHERE e.account_id = %s AND t.reference IN (%s, %s)",
                     CLEARING, f"capture:{row['id']}", f"cancellation:{row['id']}")  # fmt: skip
        assert posted == row["captured_cents"], row
