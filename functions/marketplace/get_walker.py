"""GET /v1/walkers/{walker_id}: a verified walker's public profile."""

from dogwalk.edge.api import Route
from dogwalk.edge.schemas import PublicWalker, public_walker
from dogwalk.marketplace import walkers

route = Route(__name__)


@route.handle
def get_walker(walker_id: str) -> PublicWalker:
    caller = route.principal
    return public_walker(walkers.public_profile(walker_id, caller.user_id, caller.role))


lambda_handler = route.lambda_handler
