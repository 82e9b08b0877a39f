"""PUT /v1/owners/me/home: describe your home; its access secrets are encrypted at rest."""

from dogwalk.care import homes
from dogwalk.edge.api import Route
from dogwalk.edge.schemas import Home

route = Route(__name__)


@route.handle
def put_home(home: Home) -> Home:
    return Home.model_validate(homes.put(route.principal.user_id, home.model_dump()))


lambda_handler = route.lambda_handler
