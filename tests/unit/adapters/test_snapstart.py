"""SnapStart's hooks: registered with the runtime's library, every restored copy of one snapshot
draws its own random numbers, and in the cloud a restored copy's first request finds in the
snapshot what it signs its tokens and makes its clients with."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys

import pytest
import snapshot_restore_py

from dogwalk.adapters import snapstart


def test_both_hooks_are_registered_when_a_handler_loads_the_layer() -> None:
    import dogwalk.adapters.observability  # noqa: F401 - what every handler imports

    assert snapstart.after_restore in [func for func, _, _ in snapshot_restore_py.get_after_restore()]
    assert snapstart.before_snapshot in [func for func, _, _ in snapshot_restore_py.get_before_snapshot()]


def test_copies_restored_from_one_snapshot_draw_different_numbers() -> None:
    drawn = []
    for _ in range(2):
        random.seed(20261207)  # the state both copies inherit from the snapshot
        snapstart.after_restore()
        drawn.append([random.random() for _ in range(4)])
    random.seed(20261207)
    without_hook = [random.random() for _ in range(4)]

    assert drawn[0] != drawn[1]
    assert without_hook not in drawn


# In the cloud: IAM auth for the database and the cache, one of the adapters' AWS clients (KMS).
CLOUD = {
    "DATABASE_URL": "postgresql://dogwalk@dogwalk-dev.proxy-abc123.eu-west-1.rds.amazonaws.com:5432/dogwalk",
    "DOGWALK_DATABASE_IAM_AUTH_REGION": "eu-west-1",
    "REDIS_URL": "rediss://dogwalk-dev-app@dogwalk-dev-abc123.serverless.euw1.cache.amazonaws.com:6379/0",
    "DOGWALK_REDIS_IAM_AUTH_CACHE": "dogwalk-dev",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
}
RESTORED_IN_THE_CLOUD = """
import importlib, json, sys
importlib.import_module(sys.argv[1])
from botocore.loaders import JSONFileLoader
from dogwalk.adapters import aws, cache, db, snapstart
snapstart.before_snapshot()
snapshot, reads, load = set(sys.modules), [], JSONFileLoader.load_file
def counted(self, path):  # botocore looks for optional files (`*.sdk-extras`) each time: only reads count
    data = load(self, path)
    reads.extend([path] if data is not None else [])
    return data
JSONFileLoader.load_file = counted
snapstart.after_restore()
db.iam_auth_token("dogwalk-dev.proxy-abc123.eu-west-1.rds.amazonaws.com", 5432, "dogwalk", "eu-west-1")
cache.connection_arguments()["credential_provider"].get_credentials()
[aws.client(service) for service in sys.argv[2:]]
print(json.dumps({"late": sorted(set(sys.modules) - snapshot), "reads": reads}))
"""


@pytest.mark.parametrize(("module", "clients"), [("marketplace.get_dog", []), ("care.get_home", ["kms"])])
def test_in_the_cloud_a_restored_first_request_signs_its_tokens_and_makes_its_clients_from_the_snapshot(
    module: str, clients: list[str]
) -> None:
    """What an endpoint does first after a restore, in the cloud: an IAM auth token for the
    database and one for the cache (botocore signs them), and the clients of its adapters (a
    home's reader: KMS). No module imported, no botocore data file read: the snapshot holds them
    (and no network: nothing here connects)."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "DOGWALK_"))}
    run = subprocess.run(  # noqa: S603 - our interpreter, our script
        [sys.executable, "-c", RESTORED_IN_THE_CLOUD, module, *clients],
        env=environment | CLOUD, capture_output=True, text=True, check=True,
    )  # fmt: skip
    restored = json.loads(run.stdout.strip().splitlines()[-1])
    assert restored == {"late": [], "reads": []}
