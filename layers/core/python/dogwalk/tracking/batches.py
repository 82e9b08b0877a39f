"""A batch of walk messages from the queue (fed by the IoT topic rule on `dogwalk/walks/+/+`):
walker phones' OwnTracks locations, batches and walk events, up to 100 messages.

The batch is grouped by walk and written in one transaction (one COPY for all its points). A
malformed message is logged, counted (in its walk's summary when its topic names one) and dropped
without failing the others. If the batch's transaction fails, each walk is tried in a transaction
of its own, so that a failure (a lock that cannot be had, the database gone) fails only that
walk's messages, which the queue delivers again; ingest is idempotent, so the redelivery inserts
nothing twice. What was stored goes to the walk's live viewers, whom one Redis round trip
finds for the whole batch.

Stock OwnTracks apps' messages come by the rule on `owntracks/+/+`: a `location` there is a point
of the walk in progress of the walker whose tracker username is the topic's second level (one
query for the batch); every other `_type` (the lwt; the rest go to subtopics) is ignored, and with
no walk in progress the message is dropped."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from pydantic_core import from_json  # parses the bodies 2x faster than the json module, to the same values

from dogwalk.adapters.observability import logger, metrics
from dogwalk.tracking import ingest, live, trackers

# the kind of a message whose points `_by_walk` already parsed (the others are `location` or `event`)
POINTS = "points"


@dataclass(frozen=True)
class Message:
    """One queued message: its queue id and body (the JSON payload with the topic it arrived on)."""

    message_id: str
    body: str


def _by_walk(
    messages: Iterable[Message], tracked: list[tuple[str, str, dict]] | None = None
) -> dict[str, list[tuple[str, str, Any]]]:
    """The messages by the walk their topic names; those of tracker apps' topics go to `tracked`
    (message id, tracker username, payload), for `_add_tracked`."""
    walks: dict[str, list[tuple[str, str, Any]]] = defaultdict(list)
    for message in messages:
        try:  # the common message first: a location or a batch on its walk's topic, in one pass
            queued = ingest.queued_location.validate_json(message.body)
            on_walk = ingest.TOPIC.match(queued["topic"])
        except ValidationError:  # an event, a tracker app's message, or malformed: the general path
            on_walk = None
        if on_walk is not None and on_walk.group(2) == "location":
            walks[on_walk.group(1)].append((message.message_id, POINTS, ingest.points_in(queued)))
            continue
        try:
            payload = from_json(message.body)
            topic = payload.get("topic") if isinstance(payload, dict) else None
            matched = ingest.TOPIC.match(topic) if isinstance(topic, str) else None
        except ValueError:
            topic, matched = None, None
        tracker = trackers.TOPIC.match(topic) if matched is None and isinstance(topic, str) else None
        if tracker is not None and tracked is not None:
            tracked.append((message.message_id, tracker.group(1), payload))
            continue
        if matched is None:
            logger.warning(
                "dropped a message without a walk topic",
                extra={"message_id": message.message_id, "reason": "no_walk_topic", "dropped": 1},
            )
            metrics.add_metric(name="WalkMessagesMalformed", unit="Count", value=1)
            continue
        walks[matched.group(1)].append((message.message_id, matched.group(2), payload))
    return walks


def _add_tracked(walks: dict[str, list[tuple[str, str, Any]]], tracked: list[tuple[str, str, dict]]) -> None:
    """Tracker apps' locations join the messages of their walkers' walks in progress."""
    locations = [(message_id, username, payload) for message_id, username, payload in tracked
                 if trackers.is_location(payload)]  # fmt: skip
    if len(locations) < len(tracked):
        logger.info(
            "tracker messages ignored", extra={"reason": "not_a_location", "ignored": len(tracked) - len(locations)}
        )
    walk_of = trackers.walks_of({username for _, username, _ in locations})
    unplaced = 0
    for message_id, username, payload in locations:
        if username in walk_of:
            walks[walk_of[username]].append((message_id, "location", payload))
        else:
            unplaced += 1
    if unplaced:
        logger.info("tracker points dropped: no walk in progress", extra={"reason": "no_walk", "dropped": unplaced})


def _arrivals(walks: dict[str, list[tuple[str, str, Any]]]) -> dict[str, ingest.Arrivals]:
    arrivals: dict[str, ingest.Arrivals] = {}
    for walk_id, messages in walks.items():
        arrived = arrivals[walk_id] = ingest.Arrivals()
        for message_id, kind, payload in messages:
            if kind == POINTS:
                arrived.points += payload
                continue
            try:
                points, events = ingest.parse(payload, kind)
            except ValidationError as exc:
                logger.warning("dropped a malformed walk message", extra={"message_id": message_id,
                               "walk_id": walk_id, "errors": exc.errors(include_input=False)[:3]})  # fmt: skip
                arrived.malformed += 1
                continue
            arrived.points += points
            arrived.events += events
    return arrivals


def ingest_batch(messages: Iterable[Message]) -> set[str]:
    """Store a batch; the ids of the messages whose walk could not be written (to deliver again)."""
    tracked: list[tuple[str, str, dict]] = []
    walks = _by_walk(messages, tracked)
    failed: set[str] = set()
    try:
        _add_tracked(walks, tracked)
    except Exception:  # the username lookup failed: these come again
        logger.exception("tracker messages could not be placed; they will be delivered again")
        failed.update(message_id for message_id, _, _ in tracked)
    arrivals = _arrivals(walks)
    try:  # the whole batch in one transaction: the fast path
        outcomes = ingest.ingest_many(arrivals)
    except Exception:  # then walk by walk, so that a failure fails only its own walk's messages
        logger.warning("batch ingest failed; walk by walk now", exc_info=True)
        outcomes = {}
        for walk_id, arrived in arrivals.items():
            try:
                outcomes.update(ingest.ingest_many({walk_id: arrived}))
            except Exception:
                logger.exception("walk ingest failed; its messages will be delivered again", extra={"walk_id": walk_id})
                failed.update(message_id for message_id, _, _ in walks[walk_id])
    watchers = live.watched(
        walk_id for walk_id, outcome in outcomes.items() if outcome is not None and (outcome.accepted or outcome.events)
    )
    for walk_id, outcome in outcomes.items():
        if outcome is None:
            logger.warning(
                "messages for an unknown walk dropped",
                extra={"walk_id": walk_id, "reason": "unknown_walk", "dropped": len(walks[walk_id])},
            )
            continue
        # one line per reason, for the saved query "ingest drops by reason"
        for reason, count in sorted(outcome.dropped.items()):
            logger.info("walk points dropped", extra={"walk_id": walk_id, "reason": reason, "dropped": count})
        metrics.add_metric(name="WalkPointsAccepted", unit="Count", value=len(outcome.accepted))
        metrics.add_metric(name="WalkPointsDropped", unit="Count", value=sum(outcome.dropped.values()))
        if walk_id in watchers:
            live.publish(walk_id, ingest.live_messages(outcome), watchers[walk_id])
    return failed
