"""Scheduled every minute: an accepted walk not started 15 minutes after its start sends
`walk.late` to the owner and the walker (once); one not started 60 minutes after is cancelled
with its hold released in full (`booking.cancelled`, reason `no_show`, to both) and counts on the
walker's profile. The scheduled event's `time` is the run's "now", so a retried invocation decides
as the first would have."""

from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from dogwalk.adapters.observability import instrument, logger, metrics
from dogwalk.bookings import no_show


def handle_no_shows(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    outcome = no_show.sweep(now=datetime.fromisoformat(EventBridgeEvent(event).time))
    metrics.add_metric(name="WalksLate", unit="Count", value=outcome["late"])
    metrics.add_metric(name="WalksNoShow", unit="Count", value=outcome["no_shows"])
    metrics.add_metric(name="NoShowsWaitingForGateway", unit="Count", value=outcome["unreachable"])
    logger.info("late and no-show sweep", extra=outcome)
    return outcome


lambda_handler = instrument(handle_no_shows)
