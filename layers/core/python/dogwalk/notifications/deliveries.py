"""Each delivery of an event to a recipient on a channel, once: the ledger `notification_deliveries`.

`deliver` first claims (event, recipient, channel) with one INSERT … ON CONFLICT: a delivery already
`sent`, `skipped` or `delayed` is not done again (a duplicate from SNS, a relay that published twice,
an SQS retry after a partial failure), one `failed` is taken again, and one `sending` is taken over
only once its claim is older than the lease (its consumer died); a younger one raises, so SQS
offers the message again later. Then the recipient's preferences decide: a channel not chosen is
`skipped`; push and SMS within quiet hours are `delayed` until they end, the event kept on the row
for `send_delayed`, the minute's sweep. A provider's failure marks the delivery `failed` and raises:
the consumer reports that record alone as failed and SQS retries it, into the dead-letter queue
after the queue's maxReceiveCount.

The account's own emails (`outbox.ACCOUNT_EVENT_TYPES`: verification, reset, password changed,
deleted) take the same ledger, on the email channel alone and whatever the preferences; whom they
go to and their single-use tokens are `account_events`' business (and, on the push channel, the
endpoints a deleted account's devices leave).

What stays at least once: a consumer that dies between the provider's acceptance and the ledger's
`sent` is retried after the lease, and sends again (SES and SNS take no idempotency key).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from psycopg.types.json import Jsonb
from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError, field_validator

from dogwalk.adapters import db
from dogwalk.adapters.observability import logger
from dogwalk.events import outbox
from dogwalk.notifications import account_events, preferences, texts
from dogwalk.notifications.channels import CHANNELS, Delivery, Outcome, Recipient
from dogwalk.notifications.texts import Text

# longer than any consumer's run (the registry gives them 10 s): a claim this old was abandoned
CLAIM_LEASE = timedelta(minutes=2)
# a delayed delivery whose provider fails is tried again this much later, until the event is this old
RETRY_DELAYED_AFTER = timedelta(minutes=5)
GIVE_UP_AFTER = timedelta(hours=24)
SWEEP_LIMIT = 200

Status = Literal["sent", "skipped", "delayed", "failed", "duplicate"]


class InFlight(Exception):
    """Another consumer is delivering this right now; SQS offers the message again later."""


class Event(BaseModel):
    """A channel queue's message body: `relay.message_of(row)`, raw SNS delivery."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str
    type: str
    recipient_id: str | None = None  # None: an account event that names its recipient otherwise
    recipient_role: str | None = None
    payload: dict[str, Any]
    occurred_at: AwareDatetime

    @field_validator("id", "recipient_id")
    @classmethod
    def _uuid(cls, value: str | None) -> str | None:
        import uuid

        return None if value is None else str(uuid.UUID(value))

    @field_validator("type")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in outbox.EVENT_TYPES and value not in outbox.ACCOUNT_EVENT_TYPES:
            raise ValueError(f"unknown domain event {value!r}")
        return value


def parse(body: str) -> Event:
    """The event of a queue message; a malformed one raises (a poison message: it ends in the DLQ)."""
    try:
        return Event.model_validate_json(body)
    except ValidationError as exc:
        logger.warning("malformed notification event", extra={"errors": exc.errors(include_input=False)[:3]})
        raise


def deliver(event: Event, channel: str, *, now: datetime | None = None) -> Status:
    """Deliver `event` to its recipient on `channel` once; what became of it."""
    moment = now or datetime.now(UTC)
    if event.type in outbox.ACCOUNT_EVENT_TYPES:
        return _deliver_account_event(event, channel)
    recipient = _recipient(event.recipient_id) if event.recipient_id else None
    if recipient is None:  # the user is gone (and with them their deliveries)
        logger.info("notification dropped: no such recipient", extra={"event_id": event.id})
        return "skipped"
    if not _claim(event, channel):
        return "duplicate"
    chosen = preferences.of(recipient.id)
    if not chosen.wants(event.type, channel):
        return _finish(event, recipient, channel, Outcome("skipped", "not chosen in the preferences"))
    until = chosen.quiet_until(moment) if channel in preferences.HELD_BY_QUIET_HOURS else None
    if until is not None:
        return _delay(event, recipient, channel, until)
    return _send(event, recipient, channel)


def send_delayed(*, now: datetime | None = None, limit: int = SWEEP_LIMIT) -> int:
    """Send the delayed deliveries that are due (and take over those whose sweep died); how many went."""
    moment = now or datetime.now(UTC)
    with db.transaction() as conn:
        due = conn.execute(
            """
            UPDATE notification_deliveries d SET status = 'sending', updated_at = now()
              FROM (SELECT event_id, recipient_id, channel FROM notification_deliveries
                     WHERE event IS NOT NULL
                       AND ((status = 'delayed' AND due_at <= %s) OR (status = 'sending' AND updated_at < %s))
                     ORDER BY due_at LIMIT %s FOR UPDATE SKIP LOCKED) AS chosen
             WHERE (d.event_id, d.recipient_id, d.channel) = (chosen.event_id, chosen.recipient_id, chosen.channel)
            RETURNING d.channel, d.event
            """,
            (moment, moment - CLAIM_LEASE, limit),
        ).fetchall()
    sent = 0
    for row in due:
        event = Event.model_validate(row["event"])
        recipient = _recipient(event.recipient_id) if event.recipient_id else None
        if recipient is None:
            continue
        if not preferences.of(recipient.id).wants(event.type, row["channel"]):  # changed their mind meanwhile
            _finish(event, recipient, row["channel"], Outcome("skipped", "not chosen in the preferences"))
            continue
        try:
            sent += _send(event, recipient, row["channel"]) == "sent"
        except Exception:
            logger.exception("a delayed notification failed", extra={"event_id": event.id, "channel": row["channel"]})
            _retry_later(event, recipient, row["channel"], moment)
    return sent


def _deliver_account_event(event: Event, channel: str) -> Status:
    """An account event: an email only, whatever the preferences, to whom `account_events` finds;
    on the push channel, a deletion's endpoints are deleted; nothing in the inbox."""
    if channel == "push":
        account_events.forget_push_endpoints(event)
    if channel != "email":
        return "skipped"
    recipient = account_events.recipient(event)
    if recipient is None:  # no account has the address (a reset request), or it is gone
        logger.info("account email not sent: no such account", extra={"event_type": event.type, "event_id": event.id})
        return "skipped"
    if not _claim(event, channel, recipient.id):
        return "duplicate"
    try:
        text = account_events.render(event, recipient)
    except Exception as exc:
        _mark(event, recipient, channel, "failed", f"{type(exc).__name__}: {exc}"[:500])
        raise
    if text is None:
        return _finish(event, recipient, channel, Outcome("skipped", "the account is gone"))
    status = _send(event, recipient, channel, text)
    account_events.forget_address(event)
    return status


def _send(event: Event, recipient: Recipient, channel: str, text: Text | None = None) -> Status:
    text = text or texts.render(event.type, event.recipient_role, event.payload, event.id)
    delivery = Delivery(event.id, event.type, event.occurred_at, recipient, text)
    try:
        outcome = CHANNELS[channel].send(delivery)
    except Exception as exc:
        _mark(event, recipient, channel, "failed", f"{type(exc).__name__}: {exc}"[:500])
        logger.warning("notification failed; it will be tried again", exc_info=True,
                       extra={"channel": channel, "event_type": event.type, "event_id": event.id,
                              "recipient_id": recipient.id})  # fmt: skip
        raise
    return _finish(event, recipient, channel, outcome, title=text.title)


def _recipient(user_id: str) -> Recipient | None:
    with db.transaction() as conn:
        row = conn.execute(
            "SELECT id::text, role, name, email::text, phone FROM users WHERE id = %s AND deleted_at IS NULL",
            (user_id,),
        ).fetchone()
    return Recipient(row["id"], row["role"], row["name"], row["email"], row["phone"]) if row else None


def _claim(event: Event, channel: str, recipient_id: str | None = None) -> bool:
    """True: this delivery is ours to make. False: it was made (or is held back) already."""
    recipient_id = recipient_id or event.recipient_id
    with db.transaction() as conn:
        claimed = conn.execute(
            """
            INSERT INTO notification_deliveries (event_id, recipient_id, channel, status) VALUES (%s, %s, %s, 'sending')
            ON CONFLICT (event_id, recipient_id, channel) DO UPDATE SET status = 'sending', detail = NULL,
                updated_at = now()
             WHERE notification_deliveries.status = 'failed'
                OR (notification_deliveries.status = 'sending' AND notification_deliveries.updated_at < %s)
            RETURNING status
            """,
            (event.id, recipient_id, channel, datetime.now(UTC) - CLAIM_LEASE),
        ).fetchone()
        if claimed is not None:
            return True
        current = conn.execute(
            "SELECT status FROM notification_deliveries WHERE event_id = %s AND recipient_id = %s AND channel = %s",
            (event.id, recipient_id, channel),
        ).fetchone()
    if current is not None and current["status"] == "sending":
        raise InFlight(f"{channel} delivery of event {event.id} is under way elsewhere")
    logger.info("duplicate notification ignored", extra={"channel": channel, "event_type": event.type,
                "event_id": event.id, "recipient_id": recipient_id})  # fmt: skip
    return False


def _finish(event: Event, recipient: Recipient, channel: str, outcome: Outcome, *, title: str = "") -> Status:
    _mark(event, recipient, channel, outcome.status, outcome.detail)
    message = "notification sent" if outcome.status == "sent" else "notification skipped"
    logger.info(message, extra={"channel": channel, "event_type": event.type, "recipient_id": recipient.id,
                                "recipient_role": recipient.role, "title": title, "detail": outcome.detail,
                                "event_id": event.id})  # fmt: skip
    return outcome.status


def _delay(event: Event, recipient: Recipient, channel: str, until: datetime) -> Status:
    with db.transaction() as conn:
        conn.execute(
            "UPDATE notification_deliveries SET status = 'delayed', due_at = %s, event = %s, detail = 'quiet hours',"
            " updated_at = now() WHERE event_id = %s AND recipient_id = %s AND channel = %s",
            (until, Jsonb(json.loads(event.model_dump_json())), event.id, recipient.id, channel),
        )
    logger.info("notification delayed by quiet hours", extra={"channel": channel, "event_type": event.type,
                "recipient_id": recipient.id, "until": until.isoformat(), "event_id": event.id})  # fmt: skip
    return "delayed"


def _retry_later(event: Event, recipient: Recipient, channel: str, moment: datetime) -> None:
    """A delayed delivery has no SQS message to be retried by: the sweep tries again, for a day."""
    if moment - event.occurred_at > GIVE_UP_AFTER:
        return  # `failed` stays, for the record
    with db.transaction() as conn:
        conn.execute(
            "UPDATE notification_deliveries SET status = 'delayed', due_at = %s, updated_at = now()"
            " WHERE event_id = %s AND recipient_id = %s AND channel = %s",
            (moment + RETRY_DELAYED_AFTER, event.id, recipient.id, channel),
        )


def _mark(event: Event, recipient: Recipient, channel: str, status: str, detail: str) -> None:
    with db.transaction() as conn:
        conn.execute(
            "UPDATE notification_deliveries SET status = %s, detail = %s, updated_at = now()"
            " WHERE event_id = %s AND recipient_id = %s AND channel = %s",
            (status, detail, event.id, recipient.id, channel),
        )
