"""MQTT publish → WebSocket receive, on the whole local platform (`python -m local run` started on
free ports): a phone publishes points at 5 a second as the simulator's walker; an owner subscribed
over the WebSocket receives them; each point's latency is measured from its publish to its
arrival. The path: amqtt (the device policy) → the topic-rule bridge → SQS on moto → the queue
runner's poll → `ingest_walk_messages` → PostgreSQL → `post_to_connection` → the socket. The local
emulation's SQS polling sets most of it; in the cloud the event source mapping's batching window
(2 s) does.

    python -m bench.live            # standalone; `make bench` runs it last
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import quote

POINTS = 150
RATE_HZ = 5.0
ROOT = Path(__file__).resolve().parent.parent
OWN = ("DATABASE_URL", "REDIS_URL", "MQTT_URL", "AWS_ENDPOINT_URL", "DOGWALK_STRIPE_API_BASE",
       "DOGWALK_WEBSOCKET_MANAGEMENT_URL")  # fmt: skip


def _platform(workdir: Path) -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    from local.services import free_port

    env = {k: v for k, v in os.environ.items() if k not in OWN}
    env.update({f"DOGWALK_{name}_PORT": str(free_port()) for name in ("HTTP", "MQTT", "PG", "REDIS", "MOTO",
                                                                          "STRIPE", "WS")})  # fmt: skip
    env.update(DOGWALK_DATA_DIR=str(workdir / "data"), POWERTOOLS_LOG_LEVEL="WARNING")
    log = (workdir / "platform.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "local", "run"], cwd=ROOT, env=env, stdout=log,
                               stderr=subprocess.STDOUT)  # fmt: skip  # nosec B603 - our own module
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{env['DOGWALK_HTTP_PORT']}/v1/health", timeout=2):  # nosec B310
                return process, env
        except OSError:
            time.sleep(0.5)
    process.terminate()
    raise RuntimeError(f"the platform did not start: {(workdir / 'platform.log').read_text()[-2000:]}")


def probe() -> None:
    """Run inside the platform's environment (`python -m bench.live --probe`): print the latencies."""
    from websockets.sync.client import connect

    from local import simulator
    from local.platform import Ports, point_at_running_platform

    point_at_running_platform()
    ports = Ports.from_env()
    demo = simulator.set_up(simulator.Http(f"http://127.0.0.1:{ports.http}"))
    sent: dict[int, float] = {}
    received: dict[int, float] = {}
    first = int(time.time())
    track = simulator.loop_track(first, POINTS)
    with connect(f"ws://127.0.0.1:{ports.ws}/v1/ws?token={demo.owner_token}", open_timeout=10) as socket:
        socket.send(json.dumps({"action": "subscribe", "walk_id": demo.walk_id}))

        def read() -> None:
            while len(received) < POINTS:
                try:
                    message = json.loads(socket.recv(timeout=20))
                except TimeoutError:
                    return
                if message.get("type") == "position":
                    received.setdefault(message["tst"], time.perf_counter())

        reader = threading.Thread(target=read)
        reader.start()
        asyncio.run(_publish(ports.mqtt, demo, track, sent))
        reader.join()
    latencies = sorted((received[tst] - sent[tst]) * 1000 for tst in sent if tst in received)
    print(json.dumps({"sent": len(sent), "received": len(latencies), "latencies_ms": latencies}))


async def _publish(port: int, demo: Any, track: list[dict[str, Any]], sent: dict[int, float]) -> None:
    from amqtt.client import MQTTClient
    from amqtt.mqtt.constants import QOS_1

    client = MQTTClient(client_id=demo.walker_id)
    await client.connect(f"mqtt://{quote(demo.walker_id)}:{quote(demo.walker_token, safe='')}@127.0.0.1:{port}")
    try:
        for point in track:
            # the points are timed one second apart but sent faster: stay within the walk's clock skew
            if point["tst"] > time.time() + 50:
                await asyncio.sleep(point["tst"] - time.time() - 50)
            sent[point["tst"]] = time.perf_counter()
            await client.publish(f"dogwalk/walks/{demo.walk_id}/location", json.dumps(point).encode(), qos=QOS_1)
            await asyncio.sleep(1 / RATE_HZ)
    finally:
        await client.disconnect()


def run_live_benchmark() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="dogwalk-bench-live-"))
    process, env = _platform(workdir)
    try:
        answer = subprocess.run([sys.executable, "-m", "bench.live", "--probe"], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=300, check=True)  # fmt: skip  # nosec B603
    finally:
        process.terminate()
        process.wait(60)
    measured = json.loads(answer.stdout.strip().splitlines()[-1])
    latencies = measured["latencies_ms"]
    if not latencies:
        raise RuntimeError(f"no position reached the WebSocket: {answer.stderr[-2000:]}")
    p50 = latencies[len(latencies) // 2]
    p99 = latencies[int(0.99 * (len(latencies) - 1))]
    print(f"Live view, whole local platform: MQTT publish → WebSocket receive, {measured['sent']} points at"
          f" {RATE_HZ:.0f}/s, {measured['received']} received: p50 {p50:.0f} ms, p99 {p99:.0f} ms")  # fmt: skip


if __name__ == "__main__":
    if "--probe" in sys.argv:
        probe()
    else:
        run_live_benchmark()
