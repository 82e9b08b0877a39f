"""Every domain event reaches the right person, on the channels their (default) preferences name,
saying the right thing: recorded in the outbox, published by the relay to moto's SNS, fanned out
to the channel queues by their filters, and taken from there by the four consumer functions."""

from __future__ import annotations

import html
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

from dogwalk.adapters import db
from dogwalk.events import outbox
from tests.integration.bookings.conftest import next_weekday_at, walk
from tests.integration.conftest import Api
from tests.integration.marketplace.conftest import Caller, create_dog, rows, run_sql
from tests.integration.notifications.conftest import (
    NOTIFY,
    database_url,
    deliveries_of,
    drain,
    endpoint_of,
    inbox_of,
    notify_all,
    pushes_to,
    sent_emails,
    sent_texts,
)

OWNER_PHONE, WALKER_PHONE = "+12125550101", "+12125550102"


@dataclass(frozen=True)
class World:
    owner: Caller
    walker: Caller
    admin: Caller
    booking_id: str
    walk_id: str
    start: datetime
    devices: dict[str, str]  # role → device id

    def when(self) -> str:
        return f"{self.start:%a} {self.start.day} {self.start:%b} at {self.start:%H:%M}"

    def person(self, role: str) -> Caller:
        return {"owner": self.owner, "walker": self.walker, "admin": self.admin}[role]


@pytest.fixture
def world(senders: dict[str, str], api: Api, owner: Caller, walker: Caller, admin: Caller, card: str) -> World:
    """Ana (owner) booked Sam (walker) for Biscuit; both have a phone and a device, and so has the
    admin (a device); the walk is done. The events of getting there are out of the way."""
    run_sql(database_url(), "UPDATE users SET name = 'Ana Owner', phone = %s WHERE id = %s", OWNER_PHONE, owner.id)
    run_sql(database_url(), "UPDATE users SET name = 'Sam Walker', phone = %s WHERE id = %s", WALKER_PHONE, walker.id)
    dog = create_dog(api, owner, name="Biscuit")["id"]
    start = next_weekday_at(10)
    booking = api.post("/v1/bookings", json_body={**walk(walker, [dog], start), "payment_method_id": card},
                       token=owner.token).json()  # fmt: skip
    walk_id = str(uuid.uuid4())
    run_sql(database_url(), "INSERT INTO walks (id, booking_id) VALUES (%s, %s)", walk_id, booking["id"])
    devices = {}
    for person, platform in ((owner, "fcm"), (walker, "apns"), (admin, "apns")):
        registration = {"platform": platform, "token": f"{platform}-{person.id}"}
        answer = api.post("/v1/notifications/devices", json_body=registration, token=person.token)
        assert answer.status == 201, answer.body
        devices[person.role] = answer.json()["id"]
    run_sql(database_url(), "UPDATE outbox SET published_at = now()")
    for name in NOTIFY:
        drain(name.replace("notify_", "notifications-"))
    return World(owner, walker, admin, booking["id"], walk_id, start, devices)


# event type → who hears of it, the channels their default preferences give it, the title, the text
EXPECTED: dict[str, tuple[str, set[str], str, str]] = {
    "booking.requested": ("walker", {"push"}, "New walk request", "Ana Owner asked you to walk Biscuit on {when}."),
    "booking.accepted": ("owner", {"push", "sms"}, "Walk confirmed",
                         "Sam Walker accepted your walk for Biscuit on {when}."),
    "booking.declined": ("owner", {"push"}, "Walk request declined",
                         "Sam Walker can't walk Biscuit on {when}. The hold on your card is released."),
    "booking.expired": ("owner", {"push"}, "Walk request expired", "Sam Walker didn't answer your request for"
                        " Biscuit on {when} in time. The hold on your card is released."),
    "booking.cancelled": ("walker", {"push", "sms"}, "Walk cancelled",
                          "Ana Owner cancelled the walk for Biscuit on {when}. Reason: We're away that week."),
    "walk.started": ("owner", {"push", "sms"}, "Walk started",
                     "Sam Walker is walking Biscuit now. Follow along live in the app."),
    "walk.completed": ("owner", {"push", "email"}, "Walk completed", "Sam Walker finished walking Biscuit."
                       " See the report card: https://app.dogwalk.example/walks/{walk}/report"),
    "payment.captured": ("owner", {"push", "email"}, "Payment charged",
                         "We charged $32.50 for the walk of Biscuit on {when} (the walk is done)."),
    "payment.refunded": ("owner", {"push", "email"}, "Refund on its way", "We refunded $16.25 for the walk of"
                         " Biscuit on {when}. It can take 5-10 days to show on your statement."),
    "payout.sent": ("walker", {"push", "email"}, "Payout sent",
                    "Your earnings of $1,234.00 for 2026-W47 are on their way to your bank account."),
    "tip.received": ("walker", {"push", "email"}, "You got a tip", "Ana Owner tipped you $5.00 for walking Biscuit"
                     " on {when}."),
    "review.received": ("walker", {"push"}, "New review", "Ana Owner rated your walk with Biscuit 5 out of 5."),
    "verification.decided": ("walker", {"push", "email"}, "You're verified",
                             "Your documents were approved: owners can now find and book you."),
    "payment.failed": ("owner", {"push", "email"}, "Payment didn't go through", "We couldn't hold $32.50 on your"
                       " card for the walk of Biscuit on {when}. Choose another card in the app by {when}, or the walk"
                       " is cancelled."),
    "payment.disputed": ("admin", {"push", "email"}, "Payment disputed", "Ana Owner's card issuer disputed $32.50"
                         " of the walk of Biscuit on {when}. Reason: fraudulent. Answer it with evidence at the"
                         " payment gateway before it is due."),
    # the sender named, the message never quoted (push payloads pass through Apple and Google)
    "message.received": ("walker", {"push"}, "New message", "Ana Owner sent you a message. Read it in the app."),
    "walk.late": ("owner", {"push"}, "Your walker is running late", "Sam Walker hasn't started the walk of Biscuit"
                  " planned for {when} yet. We've reminded them; if the walk hasn't started an hour after its time,"
                  " it's cancelled and the hold on your card released."),
    "booking.change_proposed": ("walker", {"push"}, "Change requested", "Ana Owner asked to change the walk of"
                                " Biscuit on {when} (new price $45.00). Accept or decline it in the app."),
    "booking.changed": ("owner", {"push"}, "Walk changed", "Sam Walker accepted your change: the walk of Biscuit"
                        " is now on {when}, for $45.00."),
}  # fmt: skip


def payload_of(event_type: str, world: World) -> dict[str, Any]:
    """The payload each event is recorded with by its domain module."""
    booking = world.booking_id
    transition = {"booking_id": booking, "reason": None}
    return {
        "booking.requested": {"booking_id": booking, "start": world.start.isoformat()},
        "booking.accepted": {**transition, "from": "requested", "to": "accepted"},
        "booking.declined": {**transition, "from": "requested", "to": "declined"},
        "booking.expired": {**transition, "from": "requested", "to": "expired"},
        "booking.cancelled": {**transition, "from": "accepted", "to": "cancelled", "reason": "We're away that week"},
        "walk.started": {**transition, "from": "accepted", "to": "in_progress"},
        "walk.completed": {**transition, "from": "in_progress", "to": "completed"},
        "payment.captured": {"booking_id": booking, "amount_cents": 3250, "reason": "walk completed"},
        "payment.refunded": {"booking_id": booking, "amount_cents": 1625, "tip": False},
        "payout.sent": {
            "payout_id": str(uuid.uuid4()),
            "amount_cents": 123400,
            "currency": "USD",
            "period": "2026-W47",
        },
        "tip.received": {"booking_id": booking, "amount_cents": 500, "currency": "USD"},
        "review.received": {"booking_id": booking, "rating": 5},
        "verification.decided": {"walker_id": world.walker.id, "status": "verified", "reason": None},
        "payment.failed": {
            "booking_id": booking,
            "amount_cents": 3250,
            "currency": "USD",
            "deadline": world.start.isoformat(),
        },
        "payment.disputed": {
            "booking_id": booking,
            "dispute_id": str(uuid.uuid4()),
            "amount_cents": 3250,
            "currency": "USD",
            "reason": "fraudulent",
            "tip": False,
        },
        "message.received": {
            "conversation_id": str(uuid.uuid4()),
            "message_id": str(uuid.uuid4()),
            "sender_id": world.owner.id,
        },
        "walk.late": {"booking_id": booking, "start": world.start.isoformat(), "minutes_late": 15},
        "booking.change_proposed": {
            "booking_id": booking,
            "change_id": str(uuid.uuid4()),
            "start": world.start.isoformat(),
            "duration_min": 90,
            "amount_cents": 4500,
            "currency": "USD",
        },
        "booking.changed": {
            "booking_id": booking,
            "change_id": str(uuid.uuid4()),
            "start": world.start.isoformat(),
            "previous_start": world.start.isoformat(),
            "amount_cents": 4500,
            "currency": "USD",
        },
    }[event_type]


def test_every_domain_event_type_has_its_expectation() -> None:
    assert set(EXPECTED) == set(outbox.EVENT_TYPES)


@pytest.mark.parametrize("event_type", outbox.EVENT_TYPES)
def test_each_event_reaches_its_recipient_on_their_channels_with_its_text(world: World, event_type: str) -> None:
    role, channels, title, text = EXPECTED[event_type]
    body = text.format(when=world.when(), walk=world.walk_id)
    recipient = world.person(role)
    other = world.owner if recipient is world.walker else world.walker
    with db.transaction() as conn:
        event_id = outbox.record(conn, event_type, recipient.id, role, payload_of(event_type, world))

    notify_all()

    assert [(n["event_id"], n["title"], n["body"]) for n in inbox_of(recipient.id)] == [(event_id, title, body)]
    assert inbox_of(other.id) == []
    assert pushed(world, role) == [(title, body, event_id)]
    assert pushed(world, other.role) == []
    emails = [(m.destinations["ToAddresses"], m.subject) for m in sent_emails()]
    assert emails == ([([email_of(recipient)], title)] if "email" in channels else [])
    if "email" in channels:
        assert html.escape(body) in sent_emails()[0].body
    phone = OWNER_PHONE if role == "owner" else WALKER_PHONE
    assert sent_texts() == ([(phone, f"DogWalk: {body}")] if "sms" in channels else [])
    ledger = {channel: row["status"] for channel, row in deliveries_of(event_id).items()}
    expected = {"inbox": "sent", "push": "sent", "email": "sent" if "email" in channels else "skipped"}
    if "sms" in channels:  # the SMS queue takes only the events worth a text
        expected["sms"] = "sent"
    assert ledger == expected


def test_a_cancellation_by_the_walker_tells_the_owner_and_a_rejection_gives_its_reason(world: World) -> None:
    with db.transaction() as conn:
        cancelled = outbox.record(conn, "booking.cancelled", world.owner.id, "owner",
                                  {"booking_id": world.booking_id, "from": "accepted", "to": "cancelled",
                                   "reason": None})  # fmt: skip
        rejected = outbox.record(
            conn,
            "verification.decided",
            world.walker.id,
            "walker",
            {"walker_id": world.walker.id, "status": "rejected", "reason": "The ID is blurry"},
        )

    notify_all()

    assert [(n["event_id"], n["title"], n["body"]) for n in inbox_of(world.owner.id)] == [
        (cancelled, "Walk cancelled", f"Sam Walker cancelled the walk for Biscuit on {world.when()}.")
    ]
    assert [(n["event_id"], n["title"], n["body"]) for n in inbox_of(world.walker.id)] == [
        (rejected, "Verification not approved",
         "Your verification was not approved. Reason: The ID is blurry. You can send new documents in the app.")
    ]  # fmt: skip


def test_a_failed_payment_and_the_cancellation_it_leads_to_read_right_to_each_party(world: World) -> None:
    told = {"booking_id": world.booking_id, "amount_cents": 3250, "currency": "USD",
            "deadline": world.start.isoformat()}  # fmt: skip
    unpaid = {"booking_id": world.booking_id, "from": "accepted", "to": "cancelled", "reason": "payment_failed"}
    with db.transaction() as conn:
        failed = outbox.record(conn, "payment.failed", world.walker.id, "walker", told)
        to_owner = outbox.record(conn, "booking.cancelled", world.owner.id, "owner", unpaid)
        to_walker = outbox.record(conn, "booking.cancelled", world.walker.id, "walker", unpaid)

    notify_all()

    when = world.when()
    assert {(n["event_id"], n["title"], n["body"]) for n in inbox_of(world.walker.id)} == {
        (to_walker, "Walk cancelled",
         f"The walk of Biscuit for Ana Owner on {when} is cancelled: the owner's payment didn't go through."),
        (failed, "Owner's payment didn't go through", f"Ana Owner's payment for walking Biscuit on {when} didn't go"
         f" through. They have until {when} to fix it; we'll tell you if the walk is cancelled."),
    }  # fmt: skip
    assert [(n["event_id"], n["title"], n["body"]) for n in inbox_of(world.owner.id)] == [
        (to_owner, "Walk cancelled", f"The walk of Biscuit with Sam Walker on {when} is cancelled: the payment"
         " didn't go through in time. Nothing was charged."),
    ]  # fmt: skip


def test_a_late_walk_and_its_no_show_cancellation_read_right_to_each_party(world: World) -> None:
    late = {"booking_id": world.booking_id, "start": world.start.isoformat(), "minutes_late": 15}
    no_show = {"booking_id": world.booking_id, "from": "accepted", "to": "cancelled", "reason": "no_show"}
    with db.transaction() as conn:
        late_to_walker = outbox.record(conn, "walk.late", world.walker.id, "walker", late)
        to_owner = outbox.record(conn, "booking.cancelled", world.owner.id, "owner", no_show)
        to_walker = outbox.record(conn, "booking.cancelled", world.walker.id, "walker", no_show)

    notify_all()

    when = world.when()
    assert {(n["event_id"], n["title"], n["body"]) for n in inbox_of(world.walker.id)} == {
        (late_to_walker, "You're late for a walk", f"The walk of Biscuit for Ana Owner was due to start on {when}."
         " Start it in the app now, or cancel it; a walk not started an hour after its time is cancelled as a"
         " no-show."),
        (to_walker, "Walk cancelled: no-show", f"You didn't start the walk of Biscuit for Ana Owner on {when}"
         " within an hour, so it is cancelled and counts as a no-show on your profile."),
    }  # fmt: skip
    assert [(n["event_id"], n["title"], n["body"]) for n in inbox_of(world.owner.id)] == [
        (to_owner, "Walk cancelled", f"Sam Walker didn't start the walk of Biscuit on {when}, so we cancelled it."
         " The hold on your card is released in full; you can book another walker in the app."),
    ]  # fmt: skip


def test_the_real_flows_notify_each_party(world: World, api: Api, card: str) -> None:
    """Request, accept, start and complete through the API: the walker hears of the request, the
    owner of the acceptance, the start (by text too) and the end, with the report card's link."""
    dog = rows(database_url(), "SELECT id::text FROM dogs WHERE owner_id = %s", world.owner.id)[0]["id"]
    start = next_weekday_at(10, days_ahead=3)
    booking = api.post("/v1/bookings", json_body={**walk(world.walker, [dog], start), "payment_method_id": card},
                       token=world.owner.token).json()  # fmt: skip
    assert api.post(f"/v1/bookings/{booking['id']}/accept", token=world.walker.token).status == 200
    run_sql(database_url(), "UPDATE bookings SET start_ts = now() + interval '5 minutes',"
                            " end_ts = now() + interval '65 minutes' WHERE id = %s", booking["id"])  # fmt: skip
    started = api.post(f"/v1/bookings/{booking['id']}/start", token=world.walker.token)
    assert started.status == 200, started.body
    completed = api.post(f"/v1/bookings/{booking['id']}/complete", token=world.walker.token)
    assert completed.status == 200, completed.body

    notify_all()

    walk_id = started.json()["walk"]["id"]
    report = f"https://app.dogwalk.example/walks/{walk_id}/report"
    assert [n["event_type"] for n in inbox_of(world.walker.id)] == ["booking.requested"]
    owner_inbox = inbox_of(world.owner.id)
    assert sorted(n["event_type"] for n in owner_inbox) == sorted(
        ["booking.accepted", "walk.started", "walk.completed", "payment.captured"]
    )
    (done,) = [n for n in owner_inbox if n["event_type"] == "walk.completed"]
    assert report in done["body"] and done["data"]["link"] == report and done["data"]["walk_id"] == walk_id
    assert [text for _, text in sent_texts()] == [
        f"DogWalk: Sam Walker accepted your walk for Biscuit on {started_text(booking)}.",
        "DogWalk: Sam Walker is walking Biscuit now. Follow along live in the app.",
    ]
    emails = {m.subject: m.body for m in sent_emails()}
    assert set(emails) == {"Walk completed", "Payment charged"}
    assert f'href="{report}"' in emails["Walk completed"]


def started_text(booking: dict[str, Any]) -> str:
    """The walk's time, in the walker's timezone, as it is when the notification is written."""
    moment = rows(database_url(), "SELECT start_ts FROM bookings WHERE id = %s", booking["id"])[0]["start_ts"]
    start = moment.astimezone(next_weekday_at(10).tzinfo)
    return f"{start:%a} {start.day} {start:%b} at {start:%H:%M}"


def pushed(world: World, role: str) -> list[tuple[str, str, str]]:
    """(title, body, event id) of each push to the role's device, read from its platform's payload."""
    found = []
    for message in pushes_to(endpoint_of(world.devices[role])):
        if role == "owner":  # an FCM device: the GCM key, an FCM HTTP v1 message
            fcm = json.loads(message["GCM"])["fcmV1Message"]["message"]
            found.append((fcm["notification"]["title"], fcm["notification"]["body"], fcm["data"]["event_id"]))
        else:  # an APNs (sandbox) device
            apns = json.loads(message["APNS_SANDBOX"])
            found.append((apns["aps"]["alert"]["title"], apns["aps"]["alert"]["body"], apns["event_id"]))
    return found


def email_of(person: Caller) -> str:
    return str(rows(database_url(), "SELECT email::text FROM users WHERE id = %s", person.id)[0]["email"])
