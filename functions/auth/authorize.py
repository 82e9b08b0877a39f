"""The REST API's token authorizer: a valid access token becomes an Allow policy whose context
carries `sub` and `role` to the handlers; anything else is refused with 401.

API Gateway caches the answer per token (see the CDK app), so the policy allows every
method of the API rather than only the one first called.
"""

from typing import Any

from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerTokenEvent,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from dogwalk.adapters import snapstart
from dogwalk.adapters.observability import instrument, logger, metrics
from dogwalk.auth import principals
from dogwalk.auth.registry import AUTHORIZER
from dogwalk.errors import Unauthorized


def authorize(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = APIGatewayAuthorizerTokenEvent(event)
    try:
        claims = principals.verified(principals.bearer_token(request.authorization_token))
    except Unauthorized as exc:
        logger.info("token refused", extra={"reason": exc.detail})
        metrics.add_metric(name="TokensRefused", unit="Count", value=1)
        # the exact message API Gateway turns into a 401
        raise Exception("Unauthorized") from None
    return principals.invoke_policy(claims, request.method_arn)


lambda_handler = instrument(authorize)
snapstart.prime(uses=AUTHORIZER.uses)  # it starts from a snapshot too (infra/functions.py)
