"""SQS consumer of the walk-messages queue (fed by the IoT topic rule on `dogwalk/walks/+/+`):
walker phones' OwnTracks locations, batches and walk events, up to 100 messages a batch.

The batch is grouped by walk and written in one transaction (one COPY for all its points). A
malformed message is logged, counted (in its walk's summary when its topic names one) and dropped
without failing the others. If the batch's transaction fails, each walk is tried in a transaction
of its own, so that a failure (a lock that cannot be had, the database gone) fails only that
walk's messages, which SQS delivers again (partial batch response, through Powertools' batch
utility); ingest is idempotent, so the redelivery inserts nothing twice."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from dogwalk.adapters.observability import instrument, logger, metrics
from dogwalk.tracking import ingest, live


def ingest_walk_messages(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    walks: dict[str, list[tuple[str, str, dict[str, Any]]]] = defaultdict(list)
    for record in event.get("Records", []):
        message_id, body = record["messageId"], record.get("body", "")
        try:
            message = json.loads(body)
            topic = message.get("topic") if isinstance(message, dict) else None
            matched = ingest.TOPIC.match(topic) if isinstance(topic, str) else None
        except ValueError:
            matched = None
        if matched is None:
            logger.warning(
                "dropped a message without a walk topic",
                extra={"message_id": message_id, "reason": "no_walk_topic", "dropped": 1},
            )
            metrics.add_metric(name="WalkMessagesMalformed", unit="Count", value=1)
            continue
        walks[matched.group(1)].append((message_id, matched.group(2), message))

    arrivals: dict[str, ingest.Arrivals] = {}
    for walk_id, messages in walks.items():
        arrived = arrivals[walk_id] = ingest.Arrivals()
        for message_id, kind, message in messages:
            try:
                points, events = ingest.parse(message, kind)
            except ValidationError as exc:
                logger.warning("dropped a malformed walk message", extra={"message_id": message_id,
                               "walk_id": walk_id, "errors": exc.errors(include_input=False)[:3]})  # fmt: skip
                arrived.malformed += 1
                continue
            arrived.points += points
            arrived.events += events

    failed: set[str] = set()
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
        live.publish(walk_id, ingest.live_messages(outcome))

    def record_handler(record: SQSRecord) -> None:
        if record.message_id in failed:
            raise RuntimeError("the walk's write failed; SQS will deliver this message again")

    return process_partial_response(  # type: ignore[return-value]  # a TypedDict of that shape
        event=event, record_handler=record_handler, processor=BatchProcessor(event_type=EventType.SQS),
        context=context,
    )  # fmt: skip


lambda_handler = instrument(ingest_walk_messages)
