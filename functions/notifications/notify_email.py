"""SQS consumer of notifications-email (every domain event): an SES email (text and HTML) if the
recipient chose email for the event.

Each record is delivered on its own (dogwalk.notifications.deliveries): a record that fails raises,
so the partial batch response names it alone and SQS retries only it; a malformed body raises too,
and lands in the dead-letter queue after the queue's maxReceiveCount."""

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from dogwalk.adapters.observability import instrument
from dogwalk.notifications import deliveries

processor = BatchProcessor(event_type=EventType.SQS)


def deliver(record: SQSRecord) -> None:
    deliveries.deliver(deliveries.parse(record.body), "email")


def notify_email(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(  # type: ignore[return-value]  # a TypedDict of that shape
        event=event, record_handler=deliver, processor=processor, context=context
    )


lambda_handler = instrument(notify_email)
