"""Every stateful resource keeps its logical id: a refactoring that renamed one would make
CloudFormation replace it (a new database, queue, topic, secret, key or bucket: the data gone).
`stateful_resources.json` is the list as the synthesized app had it before the service packages
(issue 12) moved the code. New resources may come (a new function brings its log group); one that
goes or changes its id must be a decision, with its migration, not an accident: then write the
list anew (DOGWALK_WRITE_STATEFUL_SNAPSHOT=1) in the same change."""

from __future__ import annotations

import json
import os
from pathlib import Path

from stack_template import Synthesized

# resource types whose replacement loses data or breaks what points at them
STATEFUL = (
    "AWS::RDS::", "AWS::ElastiCache::", "AWS::SQS::Queue", "AWS::SNS::Topic", "AWS::SecretsManager::Secret",
    "AWS::KMS::Key", "AWS::S3::Bucket", "AWS::Backup::BackupVault", "AWS::DynamoDB::", "AWS::Logs::LogGroup",
    "AWS::Route53::HostedZone", "AWS::CertificateManager::Certificate",
)  # fmt: skip
SNAPSHOT = Path(__file__).with_name("stateful_resources.json")


def stateful_resources(outdir: Path) -> dict[str, dict[str, str]]:
    """Template file → {logical id: type} of its stateful resources, nested stacks included."""
    found: dict[str, dict[str, str]] = {}
    for template in sorted(outdir.glob("*.template.json")):
        resources = json.loads(template.read_text()).get("Resources", {})
        kept = {
            logical_id: resource["Type"]
            for logical_id, resource in resources.items()
            if resource["Type"].startswith(STATEFUL)
        }
        if kept:
            found[template.name] = dict(sorted(kept.items()))
    return found


def test_every_stateful_resource_keeps_its_logical_id(synthesized: Synthesized) -> None:
    now = stateful_resources(synthesized.outdir)
    if os.environ.get("DOGWALK_WRITE_STATEFUL_SNAPSHOT"):  # deliberate: a reviewed change of the list
        SNAPSHOT.write_text(json.dumps(now, indent=2) + "\n")
    before = json.loads(SNAPSHOT.read_text())

    assert sum(len(ids) for ids in before.values()) > 50  # the whole app's, not an empty list
    gone = {
        f"{template}: {logical_id} ({kind})"
        for template, ids in before.items()
        for logical_id, kind in ids.items()
        if now.get(template, {}).get(logical_id) != kind
    }
    assert sorted(gone) == []
