"""Lambda SnapStart's runtime hooks: what a function does before its snapshot, and what a
function restored from the snapshot does first.

SnapStart (the functions that declare `snap_start`: the endpoints, the authorizers, the live view's
`$connect` and `subscribe`) runs a published version's init once, snapshots the memory, and starts
every new execution environment from that snapshot. So:

- **Before the snapshot** the modules that the function's first request would import are imported
  (`prime`): the Redis client behind the role check's limiter, boto3, the payment gateway's SDK...
  Our adapters import them late so that a function without SnapStart (and every test) pays only for
  what it touches; a snapshot should hold them all, or every restored environment pays for them again.
  The same for what botocore reads from its data files to make the clients the adapters use
  (`aws.preload`: models and endpoint rules, 70-170 ms a client here). Nothing else: nothing
  connects, no client is made, nothing reads a credential or a secret before the snapshot.
- **After a restore**, whatever init made is shared by every copy: `random`'s state (reseeded from
  the OS; `secrets` and `uuid4` read the OS each call and need nothing) and any connection init
  opened (our adapters connect on first use, so a snapshot holds none; they are forgotten all the
  same, should a future init warm one).

The hooks register through the Snapshot Restore for Python library, which Lambda's Python runtimes
include; where it is absent (locally, in tests) no function is ever snapshotted or restored and
nothing is registered. `observability`, which every handler imports, imports this module.
"""

from __future__ import annotations

import importlib
import random
import sys

from dogwalk import declarations

_primed: dict[str, None] = {}  # the modules to import before the snapshot, in the order named
_clients: dict[str, None] = {}  # the AWS services whose clients' data botocore reads before it

# What the first call of each adapter a function declares (`dogwalk.declarations`) imports late:
# the measured list (`python -m bench.cold_starts` shows what is left after a restore). In the
# cloud the database and the cache take IAM auth tokens, which botocore signs (the bench cannot
# show that path: tests/unit/adapters/test_snapstart.py runs it).
CONNECTS = "encodings.idna"  # the first connection to a host by name encodes the name with it
AWS = (CONNECTS, "boto3", "botocore.config", "botocore.exceptions")
SIGNS = (*AWS, "cryptography.hazmat.backends.openssl")  # the first ES256 signature or verification
ADAPTER_MODULES: dict[str, tuple[str, ...]] = {
    declarations.DATABASE: (*AWS, "dogwalk.adapters.db"),
    declarations.CACHE: (*AWS, "botocore.auth", "botocore.awsrequest", "redis", "dogwalk.adapters.cache"),
    declarations.SIGNING_KEYS_READ: SIGNS,
    declarations.SIGNING_KEYS_WRITE: SIGNS,
    declarations.PAYMENTS: (*AWS, "stripe"),
    declarations.WEBSOCKET_PUSH: AWS,
    declarations.EVENTS: (*AWS, "dogwalk.events.relay"),
    declarations.NOTIFY: AWS,
    declarations.PHOTOS_UPLOAD: AWS,
    declarations.PHOTOS_READ: AWS,
    declarations.PHOTOS_CHECK: (*AWS, "PIL.Image", "PIL.ImageOps"),
    declarations.HOME_ACCESS: AWS,
}


# The boto3 clients each adapter makes on its first call (`dogwalk.adapters.aws`).
ADAPTER_CLIENTS: dict[str, tuple[str, ...]] = {
    declarations.DATABASE: ("rds",),  # the IAM auth token of each new connection
    declarations.SIGNING_KEYS_READ: ("secretsmanager",),
    declarations.SIGNING_KEYS_WRITE: ("secretsmanager",),
    declarations.PAYMENTS: ("secretsmanager",),
    declarations.WEBSOCKET_PUSH: ("apigatewaymanagementapi",),
    declarations.EVENTS: ("sns",),
    declarations.NOTIFY: ("sns", "sesv2"),
    declarations.PHOTOS_UPLOAD: ("s3",),
    declarations.PHOTOS_READ: ("s3",),
    declarations.PHOTOS_CHECK: ("s3",),
    declarations.HOME_ACCESS: ("kms",),
}


def prime(*modules: str, uses: frozenset[str] = frozenset()) -> None:
    """Name modules the function's first request imports, and the adapters it `uses`: all imported,
    and their clients' data read, before the snapshot."""
    _primed.update(dict.fromkeys(modules))
    for adapter in sorted(uses):
        _primed.update(dict.fromkeys(ADAPTER_MODULES.get(adapter, ())))
        _clients.update(dict.fromkeys(ADAPTER_CLIENTS.get(adapter, ())))


def before_snapshot() -> None:
    """The snapshot's last step of init: everything `prime` named, imported and read."""
    for name in _primed:
        importlib.import_module(name)
    if _clients:
        from dogwalk.adapters import aws

        aws.preload(*_clients)


def after_restore() -> None:
    """A restored environment's first step: a generator of its own, no connection of the snapshot's."""
    random.seed()
    for name in ("dogwalk.adapters.db", "dogwalk.adapters.cache"):  # only those the function loaded
        adapter = sys.modules.get(name)
        if adapter is not None:
            adapter.reset()


def register() -> bool:
    """Register both hooks with the runtime; False where there is no SnapStart runtime."""
    try:
        from snapshot_restore_py import register_after_restore, register_before_snapshot
    except ImportError:
        return False
    register_before_snapshot(before_snapshot)
    register_after_restore(after_restore)
    return True


register()
