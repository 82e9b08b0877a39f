"""Scheduled every minute: the outbox relay's guarantee. Every domain event not yet published
(the publish right after its commit failed, or its function does not publish) goes to the events
topic now; SNS down → the events wait in the outbox for the next minute."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from dogwalk.adapters.observability import instrument, logger, metrics
from dogwalk.events import relay


def relay_outbox(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    published = relay.sweep()
    metrics.add_metric(name="EventsPublished", unit="Count", value=published)
    if published:
        logger.info("outbox sweep", extra={"published": published})
    return {"published": published}


lambda_handler = instrument(relay_outbox)
