"""SQS consumer of the walk-messages queue: each batch (up to 100 messages) stored by
`dogwalk.tracking.batches`; the messages of a walk whose write failed are reported as failures
(partial batch response, through Powertools' batch utility), so SQS delivers only them again."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from dogwalk.adapters.observability import instrument
from dogwalk.tracking import batches


def ingest_walk_messages(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    records = event.get("Records", [])
    failed = batches.ingest_batch(batches.Message(record["messageId"], record.get("body", "")) for record in records)

    def record_handler(record: SQSRecord) -> None:
        if record.message_id in failed:
            raise RuntimeError("the walk's write failed; SQS will deliver this message again")

    return process_partial_response(  # type: ignore[return-value]  # a TypedDict of that shape
        event=event, record_handler=record_handler, processor=BatchProcessor(event_type=EventType.SQS),
        context=context,
    )  # fmt: skip


lambda_handler = instrument(ingest_walk_messages)
