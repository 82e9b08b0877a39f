"""Scheduled daily: the walk points' partitions for the next months made, those past the
retention period dropped (`dogwalk.tracking.partitions`)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from dogwalk.adapters.observability import instrument, logger
from dogwalk.tracking import partitions


def maintain_walk_points(event: dict[str, Any], context: LambdaContext) -> dict[str, list[str]]:
    outcome = partitions.maintain()
    logger.info("walk points partitions", extra=outcome)
    return outcome


lambda_handler = instrument(maintain_walk_points)
