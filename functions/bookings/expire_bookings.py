"""Scheduled every 5 minutes: requests not accepted by their start expire, and the holds of walks
that ended without a charge are released (the guarantee behind the best-effort release)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from dogwalk.adapters.observability import instrument, logger, metrics
from dogwalk.bookings import lifecycle


def expire_bookings(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    outcome = lifecycle.expire_and_release()
    metrics.add_metric(name="BookingsExpired", unit="Count", value=outcome["expired"])
    metrics.add_metric(name="HoldsReleased", unit="Count", value=outcome["released"])
    logger.info("expiry sweep", extra=outcome)
    return outcome


lambda_handler = instrument(expire_bookings)
