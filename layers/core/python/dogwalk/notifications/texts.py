"""What each domain event says to its recipient: a title, a plain text, an HTML email body and a
link into the app. Names, dogs and times are looked up when the notification is written (the
event carries ids); times are the walk's local time, in its walker's timezone.

Templates are `string.Template`s: a dozen short sentences do not need Jinja2 in the Lambda layer.
Every value that came from a user is escaped in the HTML.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import datetime
from string import Template
from typing import Any
from zoneinfo import ZoneInfo

from dogwalk.adapters import db
from dogwalk.config import settings

# event type (or type/variant) → title, text; the variants: who hears of a cancellation, what a
# verification decided, what a refund or a dispute was of
TEXTS: dict[str, tuple[str, str]] = {
    "booking.requested": ("New walk request", "$owner asked you to walk $dogs on $when."),
    "booking.accepted": ("Walk confirmed", "$walker accepted your walk for $dogs on $when."),
    "booking.declined": (
        "Walk request declined",
        "$walker can't walk $dogs on $when. The hold on your card is released.",
    ),
    "booking.expired": (
        "Walk request expired",
        "$walker didn't answer your request for $dogs on $when in time. The hold on your card is released.",
    ),
    "booking.cancelled/owner": ("Walk cancelled", "$walker cancelled the walk for $dogs on $when.$reason"),
    "booking.cancelled/walker": ("Walk cancelled", "$owner cancelled the walk for $dogs on $when.$reason"),
    # cancelled by the platform: the payment failed and was not fixed in time
    "booking.cancelled/unpaid/owner": (
        "Walk cancelled",
        "The walk of $dogs with $walker on $when is cancelled: the payment didn't go through in time."
        " Nothing was charged.",
    ),
    "booking.cancelled/unpaid/walker": (
        "Walk cancelled",
        "The walk of $dogs for $owner on $when is cancelled: the owner's payment didn't go through.",
    ),
    # a walk no-show: not started 60 minutes after its start
    "booking.cancelled/no_show/owner": (
        "Walk cancelled",
        "$walker didn't start the walk of $dogs on $when, so we cancelled it. The hold on your card is released"
        " in full; you can book another walker in the app.",
    ),
    "booking.cancelled/no_show/walker": (
        "Walk cancelled: no-show",
        "You didn't start the walk of $dogs for $owner on $when within an hour, so it is cancelled and counts"
        " as a no-show on your profile.",
    ),
    "walk.late/owner": (
        "Your walker is running late",
        "$walker hasn't started the walk of $dogs planned for $when yet. We've reminded them; if the walk"
        " hasn't started an hour after its time, it's cancelled and the hold on your card released.",
    ),
    "walk.late/walker": (
        "You're late for a walk",
        "The walk of $dogs for $owner was due to start on $when. Start it in the app now, or cancel it; a walk"
        " not started an hour after its time is cancelled as a no-show.",
    ),
    # the owner asks to change an accepted walk; the walker answers in the app
    "booking.change_proposed": (
        "Change requested",
        "$owner asked to change the walk of $dogs on $when (new price $amount). Accept or decline it in the app.",
    ),
    # a change applied: the owner hears that the walker accepted it, the walker that a request changed
    "booking.changed/owner": (
        "Walk changed",
        "$walker accepted your change: the walk of $dogs is now on $when, for $amount.",
    ),
    "booking.changed/walker": ("Walk request changed", "$owner changed their request: $dogs on $when, for $amount."),
    "walk.started": ("Walk started", "$walker is walking $dogs now. Follow along live in the app."),
    "walk.completed": ("Walk completed", "$walker finished walking $dogs. See the report card: $link"),
    "payment.captured": ("Payment charged", "We charged $amount for the walk of $dogs on $when ($why)."),
    "payment.refunded": (
        "Refund on its way",
        "We refunded $amount for the walk of $dogs on $when. It can take 5-10 days to show on your statement.",
    ),
    "payment.refunded/tip": (
        "Refund on its way",
        "We refunded $amount of your tip for the walk of $dogs on $when."
        " It can take 5-10 days to show on your statement.",
    ),
    "payment.disputed": (
        "Payment disputed",
        "$owner's card issuer disputed $amount of the walk of $dogs on $when.$reason"
        " Answer it with evidence at the payment gateway before it is due.",
    ),
    "payment.disputed/tip": (
        "Payment disputed",
        "$owner's card issuer disputed $amount of the tip for the walk of $dogs on $when.$reason"
        " Answer it with evidence at the payment gateway before it is due.",
    ),
    "payment.failed/owner": (
        "Payment didn't go through",
        "We couldn't hold $amount on your card for the walk of $dogs on $when. Choose another card in the app"
        " by $deadline, or the walk is cancelled.",
    ),
    "payment.failed/walker": (
        "Owner's payment didn't go through",
        "$owner's payment for walking $dogs on $when didn't go through. They have until $deadline to fix it;"
        " we'll tell you if the walk is cancelled.",
    ),
    "payout.sent": ("Payout sent", "Your earnings of $amount for $period are on their way to your bank account."),
    "tip.received": ("You got a tip", "$owner tipped you $amount for walking $dogs on $when."),
    "review.received": ("New review", "$owner rated your walk with $dogs $rating out of 5."),
    # never the message itself: push payloads pass through Apple's and Google's servers
    "message.received": ("New message", "$sender sent you a message. Read it in the app."),
    "verification.decided/verified": (
        "You're verified",
        "Your documents were approved: owners can now find and book you.",
    ),
    "verification.decided/rejected": (
        "Verification not approved",
        "Your verification was not approved.$reason You can send new documents in the app.",
    ),
}
LINK_LABELS = {"walk.completed": "See the report card"}
WHY_CHARGED = {"walk completed": "the walk is done", "late cancellation": "a late cancellation"}

# The account's own emails (dogwalk.notifications.account_events): event type → title, text, link label.
# They carry no user-written value; $when is the moment of the change, in UTC.
ACCOUNT_TEXTS: dict[str, tuple[str, str, str]] = {
    "account.verification_requested": (
        "Confirm your email",
        "Confirm that this is your email address for DogWalk. The link works once, for 24 hours."
        " If you didn't sign up for DogWalk, ignore this email.",
        "Confirm my email",
    ),
    "account.reset_requested": (
        "Reset your password",
        "Someone, hopefully you, asked to reset the password of your DogWalk account. The link works once,"
        " for 30 minutes. If it wasn't you, ignore this email: your password stays as it is.",
        "Choose a new password",
    ),
    "account.password_changed": (
        "Your password was changed",
        "The password of your DogWalk account was changed on $when, and every device was signed out."
        " If that wasn't you, reset your password now and tell us at support.",
        "Reset my password",
    ),
    "account.deleted": (
        "Your account was deleted",
        "Your DogWalk account was deleted on $when, and with it your name, contact details, your dogs' details"
        " and your devices. Bookings, payments and ratings are kept without your name, for the records the law"
        " asks us to keep. Thank you for walking with us.",
        "DogWalk",
    ),
}
ACCOUNT_FOOTER = "You get this email because of a change to your DogWalk account; it is not a marketing email."

_EMAIL = Template("""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>$title</title></head>
<body style="margin:0;padding:24px;background:#f6f6f4;font-family:-apple-system,Segoe UI,Roboto,sans-serif;color:#222">
<div style="max-width:520px;margin:0 auto;background:#fff;border-radius:8px;padding:24px">
<h1 style="font-size:20px;margin:0 0 12px">$title</h1>
<p style="font-size:16px;line-height:1.5;margin:0 0 20px">$text</p>
<p style="margin:0 0 20px"><a href="$link" style="background:#2f6f4f;color:#fff;padding:10px 16px;border-radius:6px;\
text-decoration:none">$label</a></p>
<p style="font-size:12px;color:#777;margin:0">$footer</p>
</div></body></html>
""")
_EMAIL_FOOTER = "You get this email because of your DogWalk notification settings; change them in the app."


@dataclass(frozen=True)
class Text:
    title: str
    body: str
    link: str
    link_label: str = "Open in DogWalk"
    # for the inbox row and the push payload: string values only (FCM's data must be strings)
    data: dict[str, str] = field(default_factory=dict)
    # why the email came (the account's own emails come whatever the settings)
    footer: str = _EMAIL_FOOTER

    @property
    def email_text(self) -> str:
        return f"{self.body}\n\n{self.link_label}: {self.link}\n\n--\n{self.footer}\n"

    @property
    def email_html(self) -> str:
        escape = html.escape
        return _EMAIL.substitute(title=escape(self.title), text=escape(self.body), link=escape(self.link),
                                 label=escape(self.link_label), footer=escape(self.footer))  # fmt: skip


def render(event_type: str, recipient_role: str | None, payload: dict[str, Any], event_id: str) -> Text:
    """The notification of one event for its recipient."""
    with db.transaction() as conn:
        facts = _facts(conn, payload)
    key = _variant(event_type, recipient_role, payload)
    title, template = TEXTS[key]
    base = settings().app_base_url.rstrip("/")
    link = _link(event_type, payload, facts, base)
    values = {**facts, "link": link, **_details(payload, facts)}
    data = {"event_id": event_id, "event_type": event_type, "link": link}
    for name in ("booking_id", "walk_id", "payout_id", "conversation_id"):
        value = payload.get(name) or facts.get(name)
        if value:
            data[name] = str(value)
    return Text(title, Template(template).safe_substitute(values), link, LINK_LABELS.get(event_type, "Open in DogWalk"),
                data)  # fmt: skip


def _variant(event_type: str, recipient_role: str | None, payload: dict[str, Any]) -> str:
    if event_type == "booking.cancelled" and payload.get("reason") == "payment_failed":
        return f"{event_type}/unpaid/{'walker' if recipient_role == 'walker' else 'owner'}"
    if event_type == "booking.cancelled" and payload.get("reason") == "no_show":
        return f"{event_type}/no_show/{'walker' if recipient_role == 'walker' else 'owner'}"
    if event_type == "walk.late":
        return f"{event_type}/{'walker' if recipient_role == 'walker' else 'owner'}"
    if event_type in ("booking.cancelled", "payment.failed", "booking.changed"):
        return f"{event_type}/{'walker' if recipient_role == 'walker' else 'owner'}"
    if event_type == "verification.decided":
        return f"{event_type}/{'verified' if payload.get('status') == 'verified' else 'rejected'}"
    if event_type in ("payment.refunded", "payment.disputed") and payload.get("tip"):
        return f"{event_type}/tip"
    return event_type


def _link(event_type: str, payload: dict[str, Any], facts: dict[str, Any], base: str) -> str:
    if event_type == "walk.completed" and facts.get("walk_id"):
        return f"{base}/walks/{facts['walk_id']}/report"
    if event_type in ("walk.started", "walk.completed") and facts.get("walk_id"):
        return f"{base}/walks/{facts['walk_id']}"
    if payload.get("conversation_id"):
        return f"{base}/conversations/{payload['conversation_id']}"
    if payload.get("booking_id"):
        return f"{base}/bookings/{payload['booking_id']}"
    if event_type == "payout.sent":
        return f"{base}/earnings"
    if event_type == "verification.decided":
        return f"{base}/profile"
    return base


def _details(payload: dict[str, Any], facts: dict[str, Any]) -> dict[str, str]:
    reason = payload.get("reason")
    currency = payload.get("currency") or facts.get("currency") or "USD"
    return {
        "amount": money(int(payload.get("amount_cents") or 0), str(currency)),
        "why": WHY_CHARGED.get(str(reason), str(reason or "the walk")),
        "reason": f" Reason: {reason}." if reason else "",
        "period": str(payload.get("period", "")),
        "rating": str(payload.get("rating", "")),
        "deadline": _deadline(payload.get("deadline"), facts),
    }


def _deadline(value: Any, facts: dict[str, Any]) -> str:
    """A failed payment's deadline, in the walk's local time."""
    try:
        return local_time(datetime.fromisoformat(str(value)), str(facts.get("timezone") or "UTC"))
    except ValueError:
        return "the deadline"


_BOOKING = """
    SELECT b.id::text, b.start_ts, b.currency, o.name AS owner, w.name AS walker, p.timezone,
           (SELECT id::text FROM walks WHERE booking_id = b.id) AS walk_id,
           coalesce(array_agg(d.name ORDER BY d.name) FILTER (WHERE d.name IS NOT NULL), '{}') AS dog_names
      FROM bookings b JOIN users o ON o.id = b.owner_id JOIN users w ON w.id = b.walker_id
      LEFT JOIN walker_profiles p ON p.user_id = b.walker_id
      LEFT JOIN booking_dogs bd ON bd.booking_id = b.id LEFT JOIN dogs d ON d.id = bd.dog_id
     WHERE b.id = %s
     GROUP BY b.id, o.name, w.name, p.timezone
"""


def _facts(conn: db.Connection, payload: dict[str, Any]) -> dict[str, Any]:
    """Names, dogs, the walk's local time and the walk id of the event's booking (if it names one);
    the sender's name for a conversation's event."""
    if payload.get("conversation_id"):
        sender = conn.execute("SELECT name FROM users WHERE id = %s", (payload.get("sender_id"),)).fetchone()
        return {"sender": sender["name"] if sender else "Someone"}
    booking_id = payload.get("booking_id")
    row = conn.execute(_BOOKING, (booking_id,)).fetchone() if booking_id else None
    if row is None:
        return {"owner": "Your owner", "walker": "Your walker", "dogs": "your dog", "when": "the booked day"}
    return {
        "owner": row["owner"],
        "walker": row["walker"],
        "dogs": dog_list(row["dog_names"]),
        "when": local_time(row["start_ts"], row["timezone"] or "UTC"),
        "walk_id": row["walk_id"],
        "currency": row["currency"],
        "timezone": row["timezone"] or "UTC",
    }


def account_text(event_type: str, event_id: str, link: str, when: datetime) -> Text:
    """An account email: its text, with the link (which may carry a single-use token) and the moment."""
    title, template, label = ACCOUNT_TEXTS[event_type]
    body = Template(template).safe_substitute(when=f"{local_time(when, 'UTC')} UTC")
    return Text(title, body, link, label, {"event_id": event_id, "event_type": event_type}, ACCOUNT_FOOTER)


def dog_list(names: list[str]) -> str:
    if not names:
        return "your dog"
    if len(names) == 1:
        return names[0]
    return f"{', '.join(names[:-1])} and {names[-1]}"


def local_time(moment: datetime, timezone: str) -> str:
    local = moment.astimezone(ZoneInfo(timezone))
    return f"{local:%a} {local.day} {local:%b} at {local:%H:%M}"


def money(cents: int, currency: str) -> str:
    amount = f"{abs(cents) // 100:,}.{abs(cents) % 100:02d}"
    return f"${amount}" if currency == "USD" else f"{amount} {currency}"
