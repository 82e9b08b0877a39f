"""Domain events and notifications: the events topic, its channel queues' subscriptions, and what
the functions that publish (`EVENTS`) or notify (`NOTIFY`) may do.

The relay (and the endpoints right after their commit) publish each domain event to one SNS topic
with the message attribute `event_type`; every queue consumer that declares `events` gets a
subscription of its queue (raw message delivery, filtered on `event_type` unless it takes all).

Encryption: the topic uses a customer managed KMS key. The channel queues use the region's `queues`
key (infra/encryption.py), whose policy lets `sns.amazonaws.com` make and read data keys for
deliveries from this topic only (`aws:SourceArn`: `SqsSubscription` adds the statement; never the
AWS managed key for SQS, whose policy cannot be changed). Publishers need `kms:GenerateDataKey` and
`kms:Decrypt` on the topic's key besides `sns:Publish`, granted here with the publish.

Notifying: email through SES (v2 `SendEmail`) from `notifications@<notifications_sender_domain>`, a
domain identity this stack creates (Easy DKIM: the CNAME records to publish are the stack's
`NotificationsSenderDkimRecords` output); SMS through SNS `Publish` to phone numbers; push through
the SNS platform applications for FCM and APNs, made outside CloudFormation because they hold the
providers' credentials: their ARNs come from the context (`fcm_platform_application_arn`,
`apns_platform_application_arn`), and without them there is no push grant and the synth warns.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence, Set

from aws_cdk import Annotations, CfnOutput, Fn, Stack, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_ses as ses
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from dogwalk import registry
from dogwalk.config import environment_names
from infra.compliance import acknowledge, finding_text
from infra.deployment import Deployment
from infra.functions import role_of

# the message attribute the relay sets and the subscriptions filter on (dogwalk.events.relay)
EVENT_TYPE_ATTRIBUTE = "event_type"
SENDER_LOCAL_PART = "notifications"
SENDER_DISPLAY_NAME = "DogWalk"
# what SNS calls the two push services in platform application ARNs (…:app/GCM/name)
PLATFORMS = {"fcm": ("GCM",), "apns": ("APNS", "APNS_SANDBOX")}
_PLATFORM_APPLICATION = re.compile(
    r"^arn:aws[\w-]*:sns:(?P<region>[a-z0-9-]+):\d{12}:app/(?P<platform>[A-Z_]+)/[\w.-]+$"
)
# the grants of NOTIFY
SEND_EMAIL = "ses:SendEmail"
ENDPOINT_ACTIONS = ("sns:Publish", "sns:GetEndpointAttributes", "sns:SetEndpointAttributes", "sns:DeleteEndpoint")
SMS_REASON = (
    "sns:Publish to a phone number (SMS) has no resource ARN: AWS evaluates it against '*', "
    "so the notifying functions may publish with Resource '*'"
)


def endpoints_of(application_arn: str) -> str:
    """`arn:…:app/GCM/name` → `arn:…:endpoint/GCM/name/*`: every device endpoint of the application."""
    return application_arn.replace(":app/", ":endpoint/", 1) + "/*"


class Notifications(Construct):
    """The events topic and its key, the SES sender identity, and the EVENTS and NOTIFY grants.

    Built before the functions (their environment names the topic and the sender); the channel
    queues subscribe once they exist (`subscribe`).
    """

    def __init__(self, scope: Construct, construct_id: str, *, deployment: Deployment) -> None:
        super().__init__(scope, construct_id)
        self.key = kms.Key(
            self,
            "EventsKey",
            description=f"dogwalk {deployment.stage}: encrypts the domain events topic",
            enable_key_rotation=True,
        )
        self.topic = sns.Topic(
            self,
            "EventsTopic",
            topic_name=f"dogwalk-{deployment.stage}-events",
            display_name="DogWalk domain events",
            master_key=self.key,
            enforce_ssl=True,
        )
        # email: a domain identity (Easy DKIM) and the one address the functions may send from
        domain = deployment.notifications_sender_domain
        self.sender_address = f"{SENDER_LOCAL_PART}@{domain}"
        self.sender = f"{SENDER_DISPLAY_NAME} <{self.sender_address}>"
        self.identity = ses.EmailIdentity(self, "SenderIdentity", identity=ses.Identity.domain(domain))
        CfnOutput(
            self,
            "SenderDkimRecords",
            key="NotificationsSenderDkimRecords",
            description=f"CNAME records that verify {domain} for SES (name=value), to publish in its DNS",
            value=Fn.join(
                " ",
                [Fn.join("=", [record.name, record.value]) for record in self.identity.dkim_records],
            ),
        )
        # push: the platform applications made outside CloudFormation
        self.platform_applications = {
            platform: self._platform_application(platform, arn)
            for platform, arn in (
                ("fcm", deployment.fcm_platform_application_arn),
                ("apns", deployment.apns_platform_application_arn),
            )
        }
        missing = sorted(platform for platform, arn in self.platform_applications.items() if not arn)
        if missing:
            Annotations.of(self).add_warning_v2(
                "dogwalk:notifications:noPushApplication",
                f"no SNS platform application for {', '.join(missing)} "
                f"(context {', '.join(f'{platform}_platform_application_arn' for platform in missing)}): "
                "the notifying functions get no push grant for it, and push to those devices is skipped",
            )

    def _platform_application(self, platform: str, arn: str) -> str:
        if not arn:
            return ""
        match = _PLATFORM_APPLICATION.match(arn)
        if match is None or match["platform"] not in PLATFORMS[platform]:
            raise ValueError(
                f"context {platform}_platform_application_arn={arn!r} is not the ARN of an SNS platform application "
                f"for {' or '.join(PLATFORMS[platform])} (arn:aws:sns:<region>:<account>:app/<platform>/<name>)"
            )
        region = Stack.of(self).region
        if not Token.is_unresolved(region) and match["region"] != region:
            Annotations.of(self).add_warning_v2(
                f"dogwalk:notifications:{platform}OtherRegion",
                f"the {platform} platform application is in {match['region']}, this stack in {region}: "
                "its endpoints must be managed with an SNS client of that region",
            )
        return arn

    # --- who may do what -----------------------------------------------------------------------

    @property
    def push_applications(self) -> list[str]:
        return [arn for arn in self.platform_applications.values() if arn]

    def environment(self, uses: Set[str]) -> dict[str, str]:
        """The topic for the functions that publish; sender and push applications for those that notify."""
        names = environment_names()
        environment: dict[str, str] = {}
        if registry.EVENTS in uses:
            environment[names["events_topic_arn"]] = self.topic.topic_arn
        if registry.NOTIFY in uses:
            environment[names["notifications_from_email"]] = self.sender
            environment[names["push_fcm_application_arn"]] = self.platform_applications["fcm"]
            environment[names["push_apns_application_arn"]] = self.platform_applications["apns"]
        return environment

    def wildcard_reasons(self, uses: Set[str]) -> list[str]:
        """Why a function's role may hold `Resource: *` beyond tracing (see `FunctionFactory.create`)."""
        return [SMS_REASON] if registry.NOTIFY in uses else []

    def grant(self, function: lambda_.Function, uses: Set[str]) -> None:
        if registry.EVENTS in uses:
            self._grant_publish_events(function)
        if registry.NOTIFY in uses:
            self._grant_notify(function)

    def _grant_publish_events(self, function: lambda_.Function) -> None:
        """`sns:Publish` (PublishBatch too) on the topic, and the key's data keys that encrypt the messages."""
        function.add_to_role_policy(iam.PolicyStatement(actions=["sns:Publish"], resources=[self.topic.topic_arn]))
        # what `Topic.grant_publish` gives, without its `kms:GenerateDataKey*` wildcard
        function.add_to_role_policy(
            iam.PolicyStatement(actions=["kms:GenerateDataKey", "kms:Decrypt"], resources=[self.key.key_arn])
        )

    def _grant_notify(self, function: lambda_.Function) -> None:
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=[SEND_EMAIL],
                resources=[self.identity.email_identity_arn],
                conditions={"StringEquals": {"ses:FromAddress": self.sender_address}},
            )
        )
        # SMS: a phone number is no resource (SMS_REASON, acknowledged with the tracing wildcard)
        function.add_to_role_policy(iam.PolicyStatement(actions=["sns:Publish"], resources=["*"]))
        applications = self.push_applications
        if not applications:
            return
        function.add_to_role_policy(iam.PolicyStatement(actions=["sns:CreatePlatformEndpoint"], resources=applications))
        endpoints = [endpoints_of(arn) for arn in applications]
        function.add_to_role_policy(iam.PolicyStatement(actions=list(ENDPOINT_ACTIONS), resources=endpoints))
        for arn in endpoints:
            acknowledge(
                role_of(function),
                f"IAM5[Resource::{finding_text(self, arn, role_of(function))}]",
                "SNS makes a device's endpoint (its id) when the device registers; "
                "the grant is limited to the endpoints of this platform application",
            )

    # --- the channel queues ----------------------------------------------------------------------

    def subscribe(self, consumers: Sequence[registry.QueueConsumer], queues: Mapping[str, sqs.IQueue]) -> None:
        """Each consumer that declares `events` gets its queue subscribed (raw delivery, filtered unless `*`)."""
        for consumer in consumers:
            if not consumer.events:
                continue
            everything = "*" in consumer.events
            if everything and len(consumer.events) > 1:
                raise ValueError(f"{consumer.name}: events ('*',) takes all of them; list nothing else with it")
            self.topic.add_subscription(
                subscriptions.SqsSubscription(
                    queues[consumer.queue],
                    raw_message_delivery=True,
                    filter_policy=None
                    if everything
                    else {EVENT_TYPE_ATTRIBUTE: sns.SubscriptionFilter.string_filter(allowlist=list(consumer.events))},
                )
            )
