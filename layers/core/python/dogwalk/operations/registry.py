"""The platform's own functions: the health check, the migrations run on every deploy, and the
outbox relay's guarantee."""

from __future__ import annotations

from dogwalk.declarations import (
    CACHE,
    DATABASE,
    EVENTS,
    SIGNING_KEYS_READ,
    SIGNING_KEYS_WRITE,
    Endpoint,
    Function,
    Schedule,
    Service,
)

SERVICE = Service("operations", tag="Health", uses=frozenset({DATABASE}))

ENDPOINTS: tuple[Endpoint, ...] = (
    SERVICE.endpoint(
        "get_health",
        path="/v1/health",
        summary="Health of the database and the cache (Route 53 health checks)",
        uses=frozenset({DATABASE, CACHE}),
    ),
)

# Applies the SQL migrations; the CDK app runs it on every deploy before new code takes traffic.
MIGRATOR: Function = SERVICE.function(
    "run_migrations", timeout_s=300, uses=frozenset({DATABASE, SIGNING_KEYS_READ, SIGNING_KEYS_WRITE})
)

# Validates each restore test of the Aurora cluster (AWS Backup's restore testing plan, monthly):
# invoked by the EventBridge rule on a completed restore job (infra/backups.py)
RESTORE_VALIDATOR: Function = SERVICE.function("validate_restore", timeout_s=300, uses=frozenset({DATABASE}))

SCHEDULES: tuple[Schedule, ...] = (
    # the outbox relay's guarantee: whatever was not published right after its commit goes out now
    SERVICE.schedule("relay_outbox", every_s=60, timeout_s=60, uses=frozenset({DATABASE, EVENTS})),
)
