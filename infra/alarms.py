"""Operations alarms and the topic they notify (subscribe the on-call people or tools to it).

CloudWatch alarms can publish to an encrypted topic only when its key is a customer managed one
whose policy lets `cloudwatch.amazonaws.com` use it (the AWS managed key for SNS cannot be
changed), and the topic's own policy must let CloudWatch publish: a topic policy (here the one that
refuses requests without TLS) replaces SNS's default one, which allowed the account.
"""

from __future__ import annotations

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.functions import pascal_case

CLOUDWATCH = "cloudwatch.amazonaws.com"


def ops_topic_name(stage: str) -> str:
    """The region's operations topic: `dogwalk-<stage>-ops` (other stacks of the region name it so)."""
    return f"dogwalk-{stage}-ops"


class OperationsAlarms(Construct):
    """The ops topic (encrypted, TLS only) and the alarms that notify it."""

    def __init__(self, scope: Construct, construct_id: str, *, stage: str) -> None:
        super().__init__(scope, construct_id)
        self.alarm_name_prefix = f"dogwalk-{stage}-"
        stack = Stack.of(self)
        self.key = kms.Key(
            self,
            "TopicKey",
            description=f"dogwalk {stage}: encrypts the operations alarms topic",
            enable_key_rotation=True,
        )
        # the data key of each alarm notification (AWS's documented statement for CloudWatch)
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal(CLOUDWATCH)],
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=["*"],
            )
        )
        self.topic = sns.Topic(
            self,
            "Topic",
            topic_name=ops_topic_name(stage),
            display_name="DogWalk operations alarms",
            master_key=self.key,
            enforce_ssl=True,
        )
        # the platform's alarms (named dogwalk-<stage>-…) of this account and region, and no other's
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal(CLOUDWATCH)],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {
                        "aws:SourceArn": stack.format_arn(
                            service="cloudwatch",
                            resource="alarm",
                            resource_name=f"{self.alarm_name_prefix}*",
                            arn_format=ArnFormat.COLON_RESOURCE_NAME,
                        )
                    },
                },
            )
        )
        self.alarms: dict[str, cloudwatch.Alarm] = {}

    def on_dead_letters(self, queue_name: str, dead_letters: sqs.IQueue) -> cloudwatch.Alarm:
        """Any message in a consumer's dead-letter queue: a message its function failed on every try."""
        alarm = cloudwatch.Alarm(
            self,
            f"{pascal_case(queue_name)}DeadLetters",
            alarm_name=f"{self.alarm_name_prefix}{queue_name}-dead-letters",
            alarm_description=f"Messages of {queue_name} that failed every delivery wait in its dead-letter queue",
            metric=dead_letters.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(1), statistic=cloudwatch.Stats.MAXIMUM
            ),
            threshold=0,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            # SQS stops reporting a queue that has been empty for six hours: that is no alarm
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(actions.SnsAction(self.topic))
        self.alarms[queue_name] = alarm
        return alarm
