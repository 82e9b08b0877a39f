"""localstripe, run our way: on 127.0.0.1 only, with its state in memory or in a file of ours.

Upstream binds every interface and pickles its whole store to /tmp/localstripe.pickle on every
change — one file for every instance on the machine, so parallel instances (test sessions, the
e2e platforms) corrupt each other. Here each instance keeps its state where `--state` says (the
local platform: `.local/localstripe.pickle`, written atomically), or only in memory.

    python -m local.localstripe_server --port 8420 [--state FILE]
"""

from __future__ import annotations

import argparse
import os
import pickle  # nosec B403 - our own file, written by this process
import socket
from pathlib import Path

from aiohttp import web
from localstripe import resources, server


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m local.localstripe_server")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state", type=Path, default=None)
    args = parser.parse_args()
    state: Path | None = args.state

    def load(store: resources.Store) -> None:
        if state is not None and state.exists():
            with state.open("rb") as file:
                store.update(pickle.load(file))  # noqa: S301  # nosec B301 - written by this process

    def dump(store: resources.Store) -> None:
        if state is None:
            return
        partial = state.with_suffix(".tmp")
        with partial.open("wb") as file:
            pickle.dump(dict(store), file, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(partial, state)

    resources.Store.try_load_from_disk = load
    resources.Store.dump_to_disk = dump
    resources.store.try_load_from_disk()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", args.port))
    web.run_app(server.app, sock=listener, print=None, access_log=None)


if __name__ == "__main__":
    main()
