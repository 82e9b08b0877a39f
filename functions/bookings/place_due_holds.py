"""Scheduled every 15 minutes: each walk's hold is placed once it starts within 5 days, and the
bookings whose failed payment was not fixed by its deadline are cancelled. The scheduled event's
`time` is the run's "now", so a retried invocation decides as the first would have."""

from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from dogwalk.adapters.observability import instrument, logger, metrics
from dogwalk.bookings import scheduled_holds


def place_due_holds(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    outcome = scheduled_holds.run(now=datetime.fromisoformat(EventBridgeEvent(event).time))
    metrics.add_metric(name="HoldsPlaced", unit="Count", value=outcome["placed"])
    metrics.add_metric(name="HoldsFailed", unit="Count", value=outcome["failed"])
    metrics.add_metric(name="HoldsWaitingForGateway", unit="Count", value=outcome["unreachable"])
    metrics.add_metric(name="BookingsCancelledUnpaid", unit="Count", value=outcome["cancelled"])
    logger.info("hold placement", extra=outcome)
    return outcome


lambda_handler = instrument(place_due_holds)
