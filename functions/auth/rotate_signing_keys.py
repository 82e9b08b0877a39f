"""Scheduled: a new ES256 signing key; the previous one keeps verifying until its tokens expire."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from dogwalk.adapters.observability import instrument, logger
from dogwalk.auth import signing_keys


def rotate_signing_keys(event: dict[str, Any], context: LambdaContext) -> dict[str, str]:
    kid = signing_keys.rotate()
    logger.info("signing key rotated", extra={"kid": kid})
    return {"kid": kid}


lambda_handler = instrument(rotate_signing_keys)
