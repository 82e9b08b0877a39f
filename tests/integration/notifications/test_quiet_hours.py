"""Quiet hours hold push and SMS (not the inbox, not email) until they end in the user's timezone,
across the night DST ends in New York (2026-11-01, 02:00 EDT → 01:00 EST); the minute's sweep
sends them then, once."""

from __future__ import annotations

from datetime import UTC, datetime, time

from dogwalk.adapters import db
from dogwalk.events import outbox, relay
from dogwalk.notifications import deliveries, preferences
from tests.integration.marketplace.conftest import Caller, run_sql
from tests.integration.notifications.conftest import (
    database_url,
    deliveries_of,
    drain,
    endpoint_of,
    inbox_of,
    pushes_to,
    sent_emails,
    sent_texts,
)

CHANNELS = {"inbox": "notifications-inbox", "push": "notifications-push", "email": "notifications-email",
            "sms": "notifications-sms"}  # fmt: skip
# Saturday 31 October 2026, 23:30 EDT (UTC-4); quiet hours 22:00-07:00 end at 07:00 EST (UTC-5)
EVENING_BEFORE = datetime(2026, 11, 1, 3, 30, tzinfo=UTC)
QUIET_ENDS = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)  # not 11:00 UTC: the clocks went back meanwhile


def accepted_for(owner: Caller) -> dict[str, deliveries.Event]:
    """A booking.accepted for the owner, as each channel queue received it."""
    with db.transaction() as conn:
        outbox.record(conn, "booking.accepted", owner.id, "owner", {"booking_id": None, "from": "requested",
                                                                    "to": "accepted", "reason": None})  # fmt: skip
    relay.publish()
    return {channel: deliveries.Event.model_validate(drain(queue)[0]) for channel, queue in CHANNELS.items()}


def test_quiet_hours_delay_push_and_sms_past_the_dst_change_and_the_sweep_sends_them(senders, api, owner) -> None:
    run_sql(database_url(), "UPDATE users SET phone = '+12125550123' WHERE id = %s", owner.id)
    device = api.post("/v1/notifications/devices", json_body={"platform": "fcm", "token": "fcm-token-1"},
                      token=owner.token).json()["id"]  # fmt: skip
    endpoint = endpoint_of(device)
    preferences.save(owner.id, {"booking.accepted": ["push", "email", "sms"]}, (time(22), time(7)), "America/New_York")
    received = accepted_for(owner)
    event_id = received["inbox"].id

    done = {channel: deliveries.deliver(event, channel, now=EVENING_BEFORE) for channel, event in received.items()}

    assert done == {"inbox": "sent", "email": "sent", "push": "delayed", "sms": "delayed"}
    assert [row["event_id"] for row in inbox_of(owner.id)] == [event_id] and len(sent_emails()) == 1
    held = deliveries_of(event_id)
    assert (held["push"]["due_at"], held["sms"]["due_at"]) == (QUIET_ENDS, QUIET_ENDS)
    assert deliveries.deliver(received["push"], "push", now=EVENING_BEFORE) == "duplicate"  # SNS again: still held

    assert deliveries.send_delayed(now=datetime(2026, 11, 1, 11, 59, tzinfo=UTC)) == 0  # 06:59 EST
    assert pushes_to(endpoint) == [] and sent_texts() == []

    assert deliveries.send_delayed(now=QUIET_ENDS) == 2
    assert deliveries.send_delayed(now=QUIET_ENDS) == 0
    assert len(pushes_to(endpoint)) == 1
    assert sent_texts() == [("+12125550123", "DogWalk: Your walker accepted your walk for your dog on the booked day.")]
    assert {channel: row["status"] for channel, row in deliveries_of(event_id).items()} == dict.fromkeys(
        CHANNELS, "sent"
    )


def test_outside_quiet_hours_and_after_their_end_nothing_waits(senders, owner) -> None:
    preferences.save(owner.id, {}, (time(22), time(7)), "America/New_York")
    received = accepted_for(owner)

    after_the_change = datetime(2026, 11, 1, 12, 30, tzinfo=UTC)  # 07:30 EST: over
    assert deliveries.deliver(received["push"], "push", now=after_the_change) == "skipped"  # sent, had it a device
    assert deliveries_of(received["push"].id)["push"]["detail"] == "no registered device"
    assert deliveries.deliver(received["sms"], "sms", now=after_the_change) == "skipped"
    assert deliveries_of(received["sms"].id)["sms"]["detail"] == "no phone number"
