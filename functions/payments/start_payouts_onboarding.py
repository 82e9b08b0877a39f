"""POST /v1/walkers/me/payouts/onboarding: a single-use link to the payment gateway's hosted
onboarding of the walker's connected account, which the first call makes. No input: TypedDicts."""

from typing_extensions import TypedDict  # pydantic documents it on Python 3.11

from dogwalk.edge.api import Route
from dogwalk.payments import connect

route = Route(__name__)


class OnboardingLink(TypedDict):
    url: str  # open it in a browser: it works once and expires within minutes
    expires_at: str  # RFC 3339


@route.handle
def start_payouts_onboarding() -> OnboardingLink:
    link = connect.start_onboarding(route.principal.user_id)
    return OnboardingLink(url=link["url"], expires_at=link["expires_at"])


lambda_handler = route.lambda_handler
