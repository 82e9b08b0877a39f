"""The tracking service's functions: GPS from walker phones (MQTT through a topic rule and a queue,
or HTTP), the device authorizer, the live view's WebSocket routes, the walk's views and its points'
partitions."""

from __future__ import annotations

from dogwalk.declarations import (
    ANY_USER,
    CACHE,
    DATABASE,
    PHOTOS_CHECK,
    PHOTOS_READ,
    PHOTOS_UPLOAD,
    SIGNING_KEYS_READ,
    WALKER,
    WEBSOCKET_PUSH,
    Endpoint,
    Function,
    QueueConsumer,
    Schedule,
    Service,
    TopicRule,
    WebSocketRoute,
)

SERVICE = Service("tracking", tag="Tracking", uses=frozenset({DATABASE, CACHE}))
# Walker phones publish GPS and walk events over MQTT; an IoT rule queues them for the ingest.
WALK_MESSAGES_QUEUE = "walk-messages"
# The photo bucket tells this queue of every upload under `walks/`; the photo check takes them from it.
WALK_PHOTOS_QUEUE = "walk-photos"

ENDPOINTS: tuple[Endpoint, ...] = (
    SERVICE.endpoint(
        "get_walk",
        path="/v1/walks/{walk_id}",
        roles=ANY_USER,
        summary="A walk and its summary, for the booking's owner, walker or an admin",
    ),
    SERVICE.endpoint(
        "get_walk_route",
        path="/v1/walks/{walk_id}/route",
        roles=ANY_USER,
        summary="The route as GeoJSON (LineString + event Points), simplified to `simplify_m`",
    ),
    SERVICE.endpoint(
        "get_walk_report",
        path="/v1/walks/{walk_id}/report.svg",
        roles=ANY_USER,
        summary="The walk's report card as SVG",
        # up to 4 photo thumbnails, read from the bucket and embedded
        uses=frozenset({DATABASE, CACHE, PHOTOS_READ}),
    ),
    SERVICE.endpoint(
        "create_walk_photo",
        method="POST",
        path="/v1/walks/{walk_id}/photos",
        status_code=201,
        roles=WALKER,
        summary="Upload a photo of the walk under way: a presigned POST to the photo bucket",
        uses=frozenset({DATABASE, CACHE, PHOTOS_UPLOAD}),
    ),
    SERVICE.endpoint(
        "list_walk_photos",
        path="/v1/walks/{walk_id}/photos",
        roles=ANY_USER,
        summary="The walk's photos with short-lived links, for the booking's owner, walker or an admin",
        uses=frozenset({DATABASE, CACHE, PHOTOS_READ}),
    ),
    SERVICE.endpoint(
        "get_walk_gpx",
        path="/v1/walks/{walk_id}/route.gpx",
        roles=ANY_USER,
        summary="The walk as GPX 1.1: the track with its times, the events as waypoints",
    ),
    SERVICE.endpoint(
        "post_walk_locations",
        method="POST",
        path="/v1/walks/{walk_id}/locations",
        status_code=202,
        roles=WALKER,
        summary="HTTP fallback for the phone: OwnTracks location, batch or event messages",
        uses=frozenset({DATABASE, CACHE, WEBSOCKET_PUSH}),
    ),
    # a walker's stock tracker app (OwnTracks, Overland): long-lived credentials of its own
    SERVICE.endpoint(
        "create_tracker",
        method="POST",
        path="/v1/walkers/me/tracker",
        status_code=201,
        roles=WALKER,
        summary="New credentials for a stock OwnTracks or Overland app (replacing any before)",
    ),
    SERVICE.endpoint(
        "delete_tracker",
        method="DELETE",
        path="/v1/walkers/me/tracker",
        status_code=204,
        roles=WALKER,
        summary="Revoke the tracker app's credentials",
    ),
    # public for API Gateway: the tracker authenticates with HTTP Basic, checked by the function
    SERVICE.endpoint(
        "post_tracker_locations",
        method="POST",
        path="/v1/trackers/locations",
        summary='OwnTracks HTTP mode (any message; 200 `[]`) and Overland batches (`{"result":"ok"}`)',
        uses=frozenset({DATABASE, CACHE, WEBSOCKET_PUSH}),
    ),
)

SCHEDULES: tuple[Schedule, ...] = (
    # walk points: next months' partitions made, those past the retention period dropped
    SERVICE.schedule("maintain_walk_points", every_s=24 * 3600, timeout_s=120, uses=frozenset({DATABASE})),
)

QUEUE_CONSUMERS: tuple[QueueConsumer, ...] = (
    SERVICE.queue_consumer(
        "ingest_walk_messages",
        queue=WALK_MESSAGES_QUEUE,
        batch_size=100,
        timeout_s=60,
        memory_mb=512,
        uses=frozenset({DATABASE, CACHE, WEBSOCKET_PUSH}),
    ),
    # each upload: the bytes checked against the declared type, re-encoded without metadata, thumbnailed
    SERVICE.queue_consumer(
        "check_walk_photo",
        queue=WALK_PHOTOS_QUEUE,
        batch_size=5,
        timeout_s=60,
        memory_mb=1024,  # a 12 MP photo decodes to ~36 MB, and Lambda's CPU grows with memory
        uses=frozenset({DATABASE, PHOTOS_CHECK}),
    ),
)

TOPIC_RULES: tuple[TopicRule, ...] = (
    SERVICE.topic_rule("walk_messages", topic_filter="dogwalk/walks/+/+", queue=WALK_MESSAGES_QUEUE, uses=frozenset()),
    # stock OwnTracks apps: `owntracks/<tracker username>/<device>` (locations and the lwt; their
    # other messages go to subtopics no rule reads); the ingest maps the username to its walk
    SERVICE.topic_rule("owntracks_messages", topic_filter="owntracks/+/+", queue=WALK_MESSAGES_QUEUE, uses=frozenset()),
)

# The IoT Core custom authorizer: a phone connects with its access token as the MQTT password and
# may publish only to the walks of its own in-progress bookings. Every (re)connection of a phone
# waits for it: it starts from a snapshot (see README "Cold starts").
DEVICE_AUTHORIZER: Function = SERVICE.function(
    "authorize_device", uses=frozenset({SIGNING_KEYS_READ, DATABASE, CACHE}), snap_start=True
)

# The live view's WebSocket API (API Gateway WebSocket API in the cloud; locally ws://127.0.0.1:3001/v1/ws).
# An owner opening the live view waits for `$connect` and then `subscribe`: both start from a snapshot
# (see README "Cold starts"); nobody waits for `$disconnect`.
WS_CONNECT = SERVICE.websocket_route(
    "ws_connect",
    route_key="$connect",
    # the suspension check falls back to the database when Redis cannot answer
    uses=frozenset({SIGNING_KEYS_READ, CACHE, DATABASE}),
    snap_start=True,
)
WS_SUBSCRIBE = SERVICE.websocket_route(
    "ws_subscribe", route_key="subscribe", uses=frozenset({DATABASE, CACHE, WEBSOCKET_PUSH}), snap_start=True
)
WEBSOCKET_ROUTES: tuple[WebSocketRoute, ...] = (
    WS_CONNECT,
    SERVICE.websocket_route("ws_disconnect", route_key="$disconnect", uses=frozenset({CACHE})),
    WS_SUBSCRIBE,
)
