"""The walk photo bucket: private, KMS-encrypted, TLS only, with a lifecycle; its object-created
notification for uploads (`walks/`) to the photo check's queue; and who may do what in it.

- The walker's app uploads with a presigned POST signed by `create_walk_photo` (`PHOTOS_UPLOAD`:
  s3:PutObject under `walks/` only, and data keys of the bucket's key through S3).
- `check_walk_photo` (`PHOTOS_CHECK`) reads and deletes the uploads and writes the clean copies
  (`photos/`) and thumbnails (`thumbnails/`); nothing else may write there.
- The photo list and the report card (`PHOTOS_READ`) read `photos/` and `thumbnails/` only, never an
  upload (which may still carry the phone's GPS position).

The bucket's name is fixed (stage, account, region), so that the queue's policy can name it
(`aws:SourceArn`) without referring to the bucket, which itself refers to the queue: no cycle, and
the notification is a property of the bucket (no custom-resource Lambda, as CDK's
`add_event_notification` would add). The bucket is made after the queue policy and the key policy
that let S3 send (S3 checks the destination when the notification is set).

Server access logs go to a bucket of their own (SSE-S3: S3's log delivery cannot write with a KMS key).
"""

from __future__ import annotations

from collections.abc import Set

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from dogwalk import registry
from dogwalk.config import environment_names
from infra.compliance import acknowledge, finding_text
from infra.functions import role_of

UPLOADS, PHOTOS, THUMBNAILS = "walks/", "photos/", "thumbnails/"
# an upload the check never took (it failed into the dead-letter queue) goes after this
UNCHECKED_UPLOADS_DAYS = 2
# clean copies are looked at in the first weeks; later, rarely: Standard-IA (thumbnails are under
# IA's 128 KB minimum and stay in Standard)
PHOTOS_TO_INFREQUENT_ACCESS_DAYS = 30
ACCESS_LOG_DAYS = 365


class WalkPhotoStore(Construct):
    """The photo bucket of one region, its key and its access-log bucket."""

    def __init__(self, scope: Construct, construct_id: str, *, stage: str) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.key = kms.Key(
            self,
            "Key",
            description=f"dogwalk {stage}: encrypts the walk photos",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.bucket_name = f"dogwalk-{stage}-walk-photos-{stack.account}-{stack.region}"
        self.bucket_arn = f"arn:{stack.partition}:s3:::{self.bucket_name}"
        access_logs = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(ACCESS_LOG_DAYS))],
            removal_policy=RemovalPolicy.RETAIN,
        )
        acknowledge(access_logs, "S1", "the access-log bucket itself: logging its own writes would never end")
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            bucket_name=self.bucket_name,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            bucket_key_enabled=True,  # one data key per object batch, not a KMS call per request
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="walk-photos/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="unchecked-uploads",
                    prefix=UPLOADS,
                    expiration=Duration.days(UNCHECKED_UPLOADS_DAYS),
                ),
                s3.LifecycleRule(id="incomplete-uploads", abort_incomplete_multipart_upload_after=Duration.days(1)),
                s3.LifecycleRule(
                    id="older-photos",
                    prefix=PHOTOS,
                    transitions=[
                        s3.Transition(
                            storage_class=s3.StorageClass.INFREQUENT_ACCESS,
                            transition_after=Duration.days(PHOTOS_TO_INFREQUENT_ACCESS_DAYS),
                        )
                    ],
                ),
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )

    def notify(self, queue: sqs.IQueue, queue_key: kms.IKey) -> None:
        """Uploads under `walks/` → `queue`: S3 may send to it (from this bucket and account only)
        and make data keys of the queue's key; the bucket waits for both."""
        account = Stack.of(self).account
        from_this_bucket = {
            "ArnEquals": {"aws:SourceArn": self.bucket_arn},
            "StringEquals": {"aws:SourceAccount": account},
        }
        added = queue.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("s3.amazonaws.com")],
                actions=["sqs:SendMessage"],
                resources=[queue.queue_arn],
                conditions=from_this_bucket,
            )
        )
        queue_key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("s3.amazonaws.com")],
                actions=["kms:GenerateDataKey", "kms:Decrypt"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": account}},
            )
        )
        bucket = self.bucket.node.default_child
        if not isinstance(bucket, s3.CfnBucket):
            raise TypeError("s3.Bucket has no CfnBucket")
        bucket.notification_configuration = s3.CfnBucket.NotificationConfigurationProperty(
            queue_configurations=[
                s3.CfnBucket.QueueConfigurationProperty(
                    event="s3:ObjectCreated:*",
                    queue=queue.queue_arn,
                    filter=s3.CfnBucket.NotificationFilterProperty(
                        s3_key=s3.CfnBucket.S3KeyFilterProperty(
                            rules=[s3.CfnBucket.FilterRuleProperty(name="prefix", value=UPLOADS)]
                        )
                    ),
                )
            ]
        )
        if added.policy_dependable is not None:
            self.bucket.node.add_dependency(added.policy_dependable)

    @staticmethod
    def used_by(uses: Set[str]) -> bool:
        return bool(uses & {registry.PHOTOS_UPLOAD, registry.PHOTOS_READ, registry.PHOTOS_CHECK})

    def environment(self, uses: Set[str]) -> dict[str, str]:
        return {environment_names()["photos_bucket"]: self.bucket_name} if self.used_by(uses) else {}

    def grant(self, function: lambda_.Function, uses: Set[str]) -> None:
        """Exactly what each photo adapter needs, on its prefixes only."""
        objects: list[tuple[list[str], list[str]]] = []  # (actions, prefixes)
        key_actions: set[str] = set()
        if registry.PHOTOS_UPLOAD in uses:  # the presigned POST is the function's own PutObject
            objects.append((["s3:PutObject"], [UPLOADS]))
            key_actions |= {"kms:GenerateDataKey"}
        if registry.PHOTOS_READ in uses:
            objects.append((["s3:GetObject"], [PHOTOS, THUMBNAILS]))
            key_actions |= {"kms:Decrypt"}
        if registry.PHOTOS_CHECK in uses:
            objects.append((["s3:GetObject", "s3:DeleteObject"], [UPLOADS]))
            objects.append((["s3:PutObject"], [PHOTOS, THUMBNAILS]))
            key_actions |= {"kms:Decrypt", "kms:GenerateDataKey"}
        if not objects:
            return
        role = role_of(function)
        for actions, prefixes in objects:
            arns = [f"{self.bucket_arn}/{prefix}*" for prefix in prefixes]
            function.add_to_role_policy(iam.PolicyStatement(actions=actions, resources=arns))
            for arn in arns:
                acknowledge(
                    role,
                    f"IAM5[Resource::{finding_text(self, arn, role)}]",
                    "object keys are made per walk and photo at run time; the grant is limited to one prefix",
                )
        via_s3 = {"StringEquals": {"kms:ViaService": f"s3.{Stack.of(self).region}.amazonaws.com"}}
        function.add_to_role_policy(
            iam.PolicyStatement(actions=sorted(key_actions), resources=[self.key.key_arn], conditions=via_s3)
        )
