"""The provider payloads and the small rules of notifications, without I/O: SNS mobile push's JSON
message (FCM HTTP v1 under `GCM`, APNs under `APNS`/`APNS_SANDBOX`), E.164, money and dog lists,
and quiet hours that end at the right instant across a DST change."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time

import pytest

from dogwalk.notifications import preferences
from dogwalk.notifications.channels import is_e164, push_message
from dogwalk.notifications.texts import Text, dog_list, money

TEXT = Text("Walk started", 'Sam is walking "Biscuit" now.', "https://app.dogwalk.example/walks/w1",
            data={"event_id": "e1", "event_type": "walk.started", "booking_id": "b1"})  # fmt: skip


def test_the_push_message_carries_an_fcm_v1_message_and_the_apns_payload() -> None:
    message = push_message(TEXT)

    assert set(message) == {"default", "GCM", "APNS", "APNS_SANDBOX"}
    assert all(isinstance(value, str) for value in message.values())  # SNS wants each platform's JSON as a string
    fcm = json.loads(message["GCM"])["fcmV1Message"]["message"]
    assert fcm["notification"] == {"title": "Walk started", "body": 'Sam is walking "Biscuit" now.'}
    assert fcm["data"] == TEXT.data and all(isinstance(v, str) for v in fcm["data"].values())
    assert fcm["android"]["priority"] == "high"
    apns = json.loads(message["APNS"])
    assert apns == json.loads(message["APNS_SANDBOX"])
    assert apns["aps"] == {"alert": {"title": "Walk started", "body": 'Sam is walking "Biscuit" now.'},
                           "sound": "default", "thread-id": "b1"}  # fmt: skip
    assert apns["event_id"] == "e1" and apns["booking_id"] == "b1"


def test_the_html_email_escapes_what_users_wrote() -> None:
    text = Text("Walk cancelled", "<b>Ana</b> cancelled", "https://app.dogwalk.example/bookings/b1?a=1&b=2")

    assert "&lt;b&gt;Ana&lt;/b&gt; cancelled" in text.email_html
    assert 'href="https://app.dogwalk.example/bookings/b1?a=1&amp;b=2"' in text.email_html
    assert text.email_text.startswith("<b>Ana</b> cancelled\n\nOpen in DogWalk: https://app.dogwalk.example/")


@pytest.mark.parametrize(
    ("phone", "valid"),
    [("+12125550123", True), ("+447911123456", True), ("+1234567", True), ("+123456789012345", True),
     ("+1234567890123456", False), ("+123456", False), ("12125550123", False), ("+0212555012", False),
     ("+1 212 555 0123", False), ("+1212555012a", False), ("", False), ("+12125550123\n", False)],
)  # fmt: skip
def test_e164(phone: str, valid: bool) -> None:
    assert is_e164(phone) is valid


def test_money_and_dogs_read_naturally() -> None:
    assert (money(3250, "USD"), money(123400, "USD"), money(5, "EUR")) == ("$32.50", "$1,234.00", "0.05 EUR")
    assert [dog_list([]), dog_list(["Rex"]), dog_list(["Ava", "Rex", "Zed"])] == [
        "your dog", "Rex", "Ava, Rex and Zed"
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("moment", "until"),
    [  # quiet 22:00-07:00 in New York; DST ends 2026-11-01 at 02:00 EDT, begins 2027-03-14 at 02:00 EST
        (datetime(2026, 11, 1, 3, 30, tzinfo=UTC), datetime(2026, 11, 1, 12, 0, tzinfo=UTC)),  # 23:30 EDT
        (datetime(2026, 11, 1, 5, 30, tzinfo=UTC), datetime(2026, 11, 1, 12, 0, tzinfo=UTC)),  # 01:30 EDT
        (datetime(2026, 11, 1, 6, 30, tzinfo=UTC), datetime(2026, 11, 1, 12, 0, tzinfo=UTC)),  # 01:30 EST
        (datetime(2026, 11, 1, 12, 0, tzinfo=UTC), None),  # 07:00 EST: over
        (datetime(2027, 3, 14, 4, 0, tzinfo=UTC), datetime(2027, 3, 14, 11, 0, tzinfo=UTC)),  # 23:00 EST → 07:00 EDT
        (datetime(2026, 11, 1, 1, 59, tzinfo=UTC), None),  # 21:59 EDT: not yet
    ],
)
def test_quiet_hours_end_at_seven_local_whatever_the_offset_was(moment: datetime, until: datetime | None) -> None:
    assert preferences.quiet_until(moment, time(22), time(7), "America/New_York") == until
