"""GET /v1/notifications/preferences: your channels for every event type (the defaults for those
you never chose), your quiet hours and your timezone. The inbox gets every event regardless."""

from typing import cast

from typing_extensions import TypedDict  # pydantic documents it on Python 3.11

from dogwalk.edge.api import Route
from dogwalk.notifications import preferences

route = Route(__name__)


class QuietHoursView(TypedDict):
    start: str  # HH:MM, local time
    end: str


class PreferencesView(TypedDict):
    channels: dict[str, list[str]]  # event type → push, email, sms
    quiet_hours: QuietHoursView | None
    timezone: str  # IANA


@route.handle
def get_notification_preferences() -> PreferencesView:
    return cast(PreferencesView, preferences.as_view(preferences.of(route.principal.user_id)))


lambda_handler = route.lambda_handler
