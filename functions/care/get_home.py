"""GET /v1/owners/me/home: your home as you described it (404 until you have)."""

from dogwalk.care import homes
from dogwalk.edge.api import Route
from dogwalk.edge.schemas import Home

route = Route(__name__)


@route.handle
def get_home() -> Home:
    return Home.model_validate(homes.get(route.principal.user_id))


lambda_handler = route.lambda_handler
