"""POST /v1/walkers/me/tracker: credentials for the walker's stock tracker app (OwnTracks, Overland),
long-lived and separate from the app's tokens; another call replaces them (the old ones stop at
once). The password is shown only in this answer: only its digest is kept."""

from __future__ import annotations

from pydantic import BaseModel, Field

from dogwalk.config import settings
from dogwalk.edge.api import Route
from dogwalk.tracking import trackers

route = Route(__name__)


class TrackerMqtt(BaseModel):
    host: str = Field(description="the MQTT broker (TLS in the cloud); empty where MQTT is not offered")
    port: int
    topic: str = Field(description="publish to `owntracks/<username>/<device>`: this pattern")


class TrackerCredentials(BaseModel):
    username: str
    password: str = Field(description="shown once; set it in the app with the username")
    http_url: str = Field(description="OwnTracks HTTP mode's URL, and Overland's receiver endpoint")
    mqtt: TrackerMqtt


def _http_url() -> str:
    """The tracker endpoint on the host and stage this request came in on, unless a setting names it."""
    if settings().tracker_http_url:
        return settings().tracker_http_url
    event = route.app.current_event
    context = event.request_context
    host = event.headers.get("host") or context.domain_name or "localhost"
    scheme = (event.headers.get("x-forwarded-proto") or "https").split(",")[0].strip()
    # API Gateway's own domain has the stage in the path (`/<stage>/v1/...`); a custom domain does not
    prefix = f"/{context.stage}" if ".execute-api." in host and context.stage else ""
    return f"{scheme}://{host}{prefix}{trackers.HTTP_PATH}"


@route.handle
def create_tracker() -> TrackerCredentials:
    issued = trackers.issue(route.principal.user_id)
    mqtt = TrackerMqtt(
        host=settings().tracker_mqtt_host, port=settings().tracker_mqtt_port, topic=f"owntracks/{issued.username}/+"
    )
    return TrackerCredentials(username=issued.username, password=issued.password, http_url=_http_url(), mqtt=mqtt)


lambda_handler = route.lambda_handler
