"""SQS consumer of the walk-photos queue, fed by the photo bucket's object-created notifications
(uploads under `walks/`): each upload is checked against its declared type, re-encoded without its
metadata (GPS, camera, times) with a thumbnail, and its photo marked `ready` or `rejected`
(dogwalk.tracking.photos). A record that fails raises, so the partial batch response names it
alone and SQS delivers only it again; after the queue's maxReceiveCount it lands in the DLQ."""

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from dogwalk.adapters.observability import instrument, metrics
from dogwalk.tracking import photos

processor = BatchProcessor(event_type=EventType.SQS)


def check(record: SQSRecord) -> None:
    for bucket, key in photos.uploads_of(json.loads(record.body)):
        outcome = photos.check_upload(bucket, key)
        metrics.add_metric(name=f"WalkPhotos{outcome.capitalize()}", unit="Count", value=1)


def check_walk_photo(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(  # type: ignore[return-value]  # a TypedDict of that shape
        event=event, record_handler=check, processor=processor, context=context
    )


lambda_handler = instrument(check_walk_photo)
