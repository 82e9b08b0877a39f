"""The walk photo bucket (issue 16): private, KMS-encrypted, TLS only, logged, with its lifecycle; its
uploads notified to the photo check's queue (with its dead-letter queue), which only this bucket may
send to; and each photo function granted exactly its prefixes."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from stack_template import StackTemplate, referenced_ids

from dogwalk import registry

pytestmark = pytest.mark.infra

BUCKET = "AWS::S3::Bucket"


def photo_bucket(template: StackTemplate) -> tuple[str, dict[str, Any]]:
    [(logical_id, bucket)] = [
        (logical_id, bucket)
        for logical_id, bucket in template.of_type(BUCKET).items()
        if "walk-photos" in json.dumps(bucket["Properties"].get("BucketName", ""))
    ]
    return logical_id, bucket


def text(value: Any) -> str:
    return json.dumps(value)


def test_the_bucket_is_private_encrypted_with_its_own_key_tls_only_logged_and_has_a_lifecycle(
    regional: list[StackTemplate],
) -> None:
    for template in regional:
        logical_id, bucket = photo_bucket(template)
        properties = bucket["Properties"]
        assert properties["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True,
        }  # fmt: skip
        [rule] = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms" and rule["BucketKeyEnabled"] is True
        [key_id] = referenced_ids(rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"])
        assert template.properties(key_id)["EnableKeyRotation"] is True
        assert "LoggingConfiguration" in properties
        rules = {rule["Id"]: rule for rule in properties["LifecycleConfiguration"]["Rules"]}
        assert rules["unchecked-uploads"]["Prefix"] == "walks/" and rules["unchecked-uploads"]["ExpirationInDays"] == 2
        assert rules["incomplete-uploads"]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
        [policy] = [
            policy["Properties"]
            for policy in template.of_type("AWS::S3::BucketPolicy").values()
            if referenced_ids(policy["Properties"]["Bucket"]) == {logical_id}
        ]
        [deny] = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
        assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_uploads_are_notified_to_the_photo_checks_queue_which_only_this_bucket_may_send_to(
    regional: list[StackTemplate],
) -> None:
    for template in regional:
        _, bucket = photo_bucket(template)
        [notification] = bucket["Properties"]["NotificationConfiguration"]["QueueConfigurations"]
        assert notification["Event"] == "s3:ObjectCreated:*"
        assert notification["Filter"] == {"S3Key": {"Rules": [{"Name": "prefix", "Value": "walks/"}]}}
        [queue_id] = referenced_ids(notification["Queue"])
        function = template.python_functions()["check_walk_photo"]
        [mapping] = [
            mapping["Properties"]
            for mapping in template.of_type("AWS::Lambda::EventSourceMapping").values()
            if referenced_ids(mapping["Properties"]["FunctionName"]) == {function}
        ]
        assert referenced_ids(mapping["EventSourceArn"]) == {queue_id}
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        queue = template.properties(queue_id)
        assert "deadLetterTargetArn" in queue["RedrivePolicy"] and "KmsMasterKeyId" in queue
        [queue_policy_id] = [
            policy_id
            for policy_id, policy in template.of_type("AWS::SQS::QueuePolicy").items()
            if queue_id in referenced_ids(policy["Properties"]["Queues"])
        ]
        statements = template.properties(queue_policy_id)["PolicyDocument"]["Statement"]
        [from_s3] = [s for s in statements if s.get("Principal") == {"Service": "s3.amazonaws.com"}]
        assert from_s3["Effect"] == "Allow" and from_s3["Action"] == "sqs:SendMessage"
        assert "walk-photos" in text(from_s3["Condition"]["ArnEquals"]["aws:SourceArn"])
        assert "aws:SourceAccount" in from_s3["Condition"]["StringEquals"]
        # S3 checks the destination when the notification is set: the bucket waits for the queue's policy
        assert queue_policy_id in bucket.get("DependsOn", [])


def object_grants(template: StackTemplate, function_name: str) -> dict[str, set[str]]:
    """S3 action → the object ARNs (as JSON text) the function's role may use it on."""
    function = template.python_functions()[function_name]
    grants: dict[str, set[str]] = {}
    for statement in template.statements_of(function):
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        for action in actions:
            if action.startswith("s3:"):
                resources = (
                    statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
                )
                grants.setdefault(action, set()).update(text(resource).split("s3:::")[-1] for resource in resources)
    return grants


def prefixes(grants: dict[str, set[str]]) -> dict[str, set[str]]:
    """S3 action → the object prefixes of the photo bucket it is granted on (`walks/*`, ...)."""
    found: dict[str, set[str]] = {}
    for action, arns in grants.items():
        for arn in arns:
            assert "walk-photos" in arn, arn
            found.setdefault(action, set()).update(re.findall(r"/([a-z]+/\*)", arn))
    return found


def test_each_photo_function_may_do_exactly_its_part_and_no_other_function_touches_the_bucket(
    primary: StackTemplate,
) -> None:
    assert prefixes(object_grants(primary, "create_walk_photo")) == {"s3:PutObject": {"walks/*"}}
    for reader in ("list_walk_photos", "get_walk_report"):
        assert prefixes(object_grants(primary, reader)) == {"s3:GetObject": {"photos/*", "thumbnails/*"}}
    assert prefixes(object_grants(primary, "check_walk_photo")) == {
        "s3:GetObject": {"walks/*"},
        "s3:DeleteObject": {"walks/*"},
        "s3:PutObject": {"photos/*", "thumbnails/*"},
    }
    photo_functions = {"create_walk_photo", "list_walk_photos", "get_walk_report", "check_walk_photo"}
    for name in set(primary.python_functions()) - photo_functions:
        assert not any("walk-photos" in grant for arns in object_grants(primary, name).values() for grant in arns), name
    declared = {
        function.name
        for function in (*registry.ENDPOINTS, *registry.QUEUE_CONSUMERS)
        if function.uses & {registry.PHOTOS_UPLOAD, registry.PHOTOS_READ, registry.PHOTOS_CHECK}
    }
    assert declared == photo_functions
