"""Lambda SnapStart's runtime hook: what a function restored from its snapshot does first.

SnapStart (the endpoint functions and the authorizer: `infra/functions.py`) runs a published
version's init once, snapshots the memory, and starts every new execution environment from that
snapshot. Whatever init made is then shared by every copy: `random`'s state (reseeded here from
the OS; `secrets` and `uuid4` read the OS each call and need nothing) and any connection init
opened (our adapters connect on first use, so a snapshot holds none; they are forgotten here all
the same, should a future init warm one). The hook registers through the Snapshot Restore for
Python library, which Lambda's Python runtimes include; where it is absent (locally, in tests) no
function is ever restored and nothing is registered. `observability`, which every handler
imports, imports this module.
"""

from __future__ import annotations

import random
import sys


def after_restore() -> None:
    """A restored environment's first step: a generator of its own, no connection of the snapshot's."""
    random.seed()
    for name in ("dogwalk.adapters.db", "dogwalk.adapters.cache"):  # only those the function loaded
        adapter = sys.modules.get(name)
        if adapter is not None:
            adapter.reset()


def register() -> bool:
    """Register `after_restore` with the runtime; False where there is no SnapStart runtime."""
    try:
        from snapshot_restore_py import register_after_restore
    except ImportError:
        return False
    register_after_restore(after_restore)
    return True


register()
