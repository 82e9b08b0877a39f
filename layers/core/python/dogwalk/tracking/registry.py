"""The tracking service's functions: GPS from walker phones (MQTT through a topic rule and a queue,
or HTTP), the device authorizer, the live view's WebSocket routes, the walk's views and its points'
partitions."""

from __future__ import annotations

from dogwalk.declarations import (
    ANY_USER,
    CACHE,
    DATABASE,
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
)

TOPIC_RULES: tuple[TopicRule, ...] = (
    SERVICE.topic_rule("walk_messages", topic_filter="dogwalk/walks/+/+", queue=WALK_MESSAGES_QUEUE, uses=frozenset()),
)

# The IoT Core custom authorizer: a phone connects with its access token as the MQTT password and
# may publish only to the walks of its own in-progress bookings.
DEVICE_AUTHORIZER: Function = SERVICE.function("authorize_device", uses=frozenset({SIGNING_KEYS_READ, DATABASE, CACHE}))

# The live view's WebSocket API (API Gateway WebSocket API in the cloud; locally ws://127.0.0.1:3001/v1/ws).
WEBSOCKET_ROUTES: tuple[WebSocketRoute, ...] = (
    # the suspension check falls back to the database when Redis cannot answer
    SERVICE.websocket_route("ws_connect", route_key="$connect", uses=frozenset({SIGNING_KEYS_READ, CACHE, DATABASE})),
    SERVICE.websocket_route("ws_disconnect", route_key="$disconnect", uses=frozenset({CACHE})),
    SERVICE.websocket_route("ws_subscribe", route_key="subscribe", uses=frozenset({DATABASE, CACHE, WEBSOCKET_PUSH})),
)
