"""`python -m local run` starts the local platform; `python -m local invoke NAME --event FILE`
invokes one function like `sam local invoke`."""

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
    args = parser.parse_args(argv)

    if args.command == "run":
        from local.platform import run

        return run()
    if args.command == "openapi":
        from local.openapi import openapi_document

        json.dump(openapi_document(), sys.stdout, indent=2)
        print()
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
