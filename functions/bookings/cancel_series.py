"""POST /v1/series/{series_id}/cancel: the owner or the walker ends a series: every walk of it from
`from` (default now) on cancelled by the policy, each listed with its `refund_cents`. Honours
Idempotency-Key."""

from pydantic import Field

from dogwalk.bookings import series
from dogwalk.edge.api import Route
from dogwalk.edge.schemas import Instant, SeriesOut, Write, series_out

route = Route(__name__)


class SeriesEnd(Write):
    since: Instant | None = Field(default=None, alias="from")
    reason: str | None = Field(default=None, max_length=2000)


@route.handle
def cancel_series(series_id: str, end: SeriesEnd) -> SeriesOut:
    return series_out(series.cancel(series_id, route.principal.user_id, end.since, end.reason))


lambda_handler = route.lambda_handler
