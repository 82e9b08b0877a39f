"""GET /v1/walkers/{walker_id}: a verified walker's public profile."""

from dogwalk import walkers
from dogwalk.api import Endpoint
from dogwalk.schemas import PublicWalker, public_walker

endpoint = Endpoint("get_walker")


@endpoint.handle
def get_walker(walker_id: str) -> PublicWalker:
    caller = endpoint.principal
    return public_walker(walkers.public_profile(walker_id, caller.user_id, caller.role))


lambda_handler = endpoint.lambda_handler
