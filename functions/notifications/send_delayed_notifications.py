"""Scheduled every minute: the push and SMS notifications that quiet hours held back go out once the
hours have ended (and a delayed one whose provider failed is tried again)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from dogwalk.adapters.observability import instrument, logger, metrics
from dogwalk.notifications import deliveries


def send_delayed_notifications(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    sent = deliveries.send_delayed()
    metrics.add_metric(name="DelayedNotificationsSent", unit="Count", value=sent)
    if sent:
        logger.info("delayed notifications sent", extra={"sent": sent})
    return {"sent": sent}


lambda_handler = instrument(send_delayed_notifications)
