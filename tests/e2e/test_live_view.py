"""The live view against `make run`: the owner watches at ws://…/v1/ws while the walker's phone
posts its points over HTTP; the push crosses from the HTTP API's function to the WebSocket API
through the management endpoint the platform serves. A bad token cannot connect, and a taken
WebSocket port is a one-line error like the others."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from local.services import free_port
from tests.conftest import REPO
from tests.e2e.conftest import PORTS, RunningPlatform, http


def walk_under_way(platform: RunningPlatform, owner_id: str, walker_id: str) -> str:
    """A walk started a moment ago, written straight into the platform's database (the booking
    flow has its own tests); its id."""
    booking_id, walk_id = str(uuid.uuid4()), str(uuid.uuid4())
    with psycopg.connect(platform.database_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO walker_profiles (user_id, price_cents_per_30min, lat, lon, radius_km, max_dogs,"
            " accepted_sizes, timezone, verification) VALUES (%s, 2000, 40.756, -73.986, 5, 2, '{small}',"
            " 'America/New_York', 'verified')",
            (walker_id,),
        )
        conn.execute(
            "INSERT INTO bookings (id, owner_id, walker_id, start_ts, end_ts, status)"
            " VALUES (%s, %s, %s, now() - interval '1 minute', now() + interval '59 minutes', 'in_progress')",
            (booking_id, owner_id, walker_id),
        )
        conn.execute("INSERT INTO walks (id, booking_id) VALUES (%s, %s)", (walk_id, booking_id))
    return walk_id


def test_the_owner_watches_the_walkers_points_arrive(
    platform: RunningPlatform, seeded_token: Callable[[str], tuple[str, str]]
) -> None:
    owner_id, owner_token = seeded_token("owner")
    walker_id, walker_token = seeded_token("walker")
    walk_id = walk_under_way(platform, owner_id, walker_id)
    now = int(time.time())
    point = {"_type": "location", "lat": 40.7561, "lon": -73.9860, "tst": now - 5, "acc": 5}

    with connect(f"{platform.websocket_url}?token={owner_token}", open_timeout=10) as watching:
        watching.send(json.dumps({"action": "subscribe", "walk_id": walk_id}))
        assert json.loads(watching.recv(timeout=10)) == {"type": "subscribed", "walk_id": walk_id}

        posted = http("POST", f"{platform.base}/v1/walks/{walk_id}/locations", point, token=walker_token)
        assert posted.status == 202, posted.body

        assert json.loads(watching.recv(timeout=10)) == {
            "type": "position", "walk_id": walk_id, "lat": 40.7561, "lon": -73.9860, "tst": now - 5,
        }  # fmt: skip


def test_a_bad_token_cannot_connect(platform: RunningPlatform) -> None:
    with pytest.raises(InvalidStatus) as refused:
        connect(f"{platform.websocket_url}?token=not-a-token", open_timeout=10)

    assert refused.value.response.status_code == 401


def test_a_taken_websocket_port_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        own = ("DATABASE_URL", "REDIS_URL", "MQTT_URL", "AWS_ENDPOINT_URL", "DOGWALK_STRIPE_API_BASE")
        env = {k: v for k, v in os.environ.items() if k not in own}
        env.update({f"DOGWALK_{name}_PORT": str(free_port()) for name in PORTS})
        env.update(DOGWALK_DATA_DIR=str(tmp_path / "data"), DOGWALK_WS_PORT=str(taken))
        result = subprocess.run(
            [sys.executable, "-m", "local", "run"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
        )

    assert result.returncode == 2
    assert f"port {taken} for the WebSocket API is taken" in result.stderr
    assert "DOGWALK_WS_PORT" in result.stderr
    assert "Traceback" not in result.stderr
