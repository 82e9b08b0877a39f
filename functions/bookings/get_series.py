"""GET /v1/series/{series_id}: a weekly series and its walks, for its owner or its walker."""

from dogwalk.bookings import series
from dogwalk.edge.api import Route
from dogwalk.edge.schemas import SeriesOut, series_out

route = Route(__name__)


@route.handle
def get_series(series_id: str) -> SeriesOut:
    return series_out(series.get(series_id, route.principal.user_id))


lambda_handler = route.lambda_handler
