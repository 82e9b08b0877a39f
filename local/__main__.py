"""`python -m local run` starts the local platform; `python -m local invoke NAME --event FILE`
invokes one function like `sam local invoke`; `python -m local simulate-walk` plays a walker's
phone against it and `python -m local watch-walk WALK_ID --token T` watches a walk live."""

from __future__ import annotations

import argparse
import json
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="start the whole platform locally")
    invoke = commands.add_parser("invoke", help="invoke one function with an event file")
    invoke.add_argument("name", help="the function's name in the registry, e.g. get_health")
    invoke.add_argument("--event", required=True, help="a JSON event file, e.g. events/get_health.json")
    commands.add_parser("openapi", help="print the OpenAPI document")
    simulate = commands.add_parser("simulate-walk", help="book, start and walk a demo walk over MQTT (needs make run)")
    simulate.add_argument("--points", type=int, default=120, help="GPS points, one a second (default 120)")
    simulate.add_argument("--interval", type=float, default=1.0, help="seconds between messages (default 1)")
    simulate.add_argument("--wait", type=float, default=10.0, help="seconds to open the watcher first (default 10)")
    simulate.add_argument("--no-complete", action="store_true", help="leave the walk under way")
    simulate.add_argument("--json", action="store_true", help="also print the demo's ids and tokens as JSON")
    simulate.add_argument(
        "--client",
        choices=("app", "owntracks-http", "owntracks-mqtt", "overland"),
        default="app",
        help="the phone: the walker app (default) or a stock tracker app with tracker credentials",
    )
    watch = commands.add_parser("watch-walk", help="print a walk's live positions and events")
    watch.add_argument("walk_id")
    watch.add_argument("--token", required=True, help="an access token of the booking's owner, walker or an admin")
    for command in (simulate, watch):
        command.add_argument("--ws", default=None, help="the WebSocket URL (default: the local platform's)")
    args = parser.parse_args(argv)

    if args.command == "run":
        from local.platform import run

        return run()
    if args.command in ("simulate-walk", "watch-walk"):
        import asyncio
        import os

        from local import simulator
        from local.platform import Ports, point_at_running_platform

        point_at_running_platform()
        ports = Ports.from_env()
        ws_url = args.ws or f"ws://127.0.0.1:{ports.ws}/v1/ws"
        if args.command == "watch-walk":
            asyncio.run(simulator.watch(ws_url, args.walk_id, args.token))
            return 0
        mqtt_url = os.environ.get("MQTT_URL", f"mqtt://127.0.0.1:{ports.mqtt}")
        simulator.simulate(f"http://127.0.0.1:{ports.http}", mqtt_url, ws_url, args.points, args.interval, args.wait,
                           complete=not args.no_complete, as_json=args.json, client=args.client)  # fmt: skip
        return 0
    if args.command == "openapi":
        from local.openapi import openapi_text

        sys.stdout.write(openapi_text())
        return 0

    # like `sam local invoke`: the function's logs and metrics on stderr, its answer alone on stdout
    answer_out, sys.stdout = sys.stdout, sys.stderr
    from dogwalk import registry
    from local import runtime
    from local.platform import point_at_running_platform

    point_at_running_platform()
    function = next((f for f in registry.functions() if f.name == args.name), None)
    if function is None:
        names = ", ".join(f.name for f in registry.functions())
        parser.error(f"no function named {args.name!r}; the registry has: {names}")
    with open(args.event) as file:
        event = json.load(file)
    json.dump(runtime.invoke(function, event), answer_out, indent=2, default=str)
    print(file=answer_out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
