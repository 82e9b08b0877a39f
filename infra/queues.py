"""Queue consumers (SQS queue, dead-letter queue, event source) and the IoT rules that feed them."""

from __future__ import annotations

import re
from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_iot as iot
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from dogwalk import registry
from infra.functions import pascal_case

DEAD_LETTER_RETENTION = Duration.days(14)
# how long SQS may wait to fill a batch of more than 10 messages: fuller batches, at most this much
# more latency on the live view (walk positions are pushed by the ingest)
BATCHING_WINDOW = Duration.seconds(2)


class Queues(Construct):
    """One queue per consumer, named in the registry; topic rules send to those queues by name."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        key: kms.IKey,
        consumers: Sequence[tuple[registry.QueueConsumer, lambda_.IFunction]],
        topic_rules: Sequence[registry.TopicRule],
    ) -> None:
        super().__init__(scope, construct_id)
        # the region's `queues` key (infra/encryption.py): SNS and the IoT rules may use it to send
        self.key = key
        self.queues: dict[str, sqs.Queue] = {}
        self.dead_letter_queues: dict[str, sqs.Queue] = {}
        for consumer, function in consumers:
            self._add_consumer(consumer, function)
        for rule in topic_rules:
            self._add_topic_rule(stage, rule)

    def _add_consumer(self, consumer: registry.QueueConsumer, function: lambda_.IFunction) -> None:
        if consumer.queue in self.queues:
            raise ValueError(f"{consumer.name}: queue {consumer.queue!r} already has a consumer")
        construct_id = pascal_case(consumer.queue)
        dead_letters = sqs.Queue(
            self,
            f"{construct_id}DeadLetters",
            retention_period=DEAD_LETTER_RETENTION,
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=self.key,
            enforce_ssl=True,
        )
        batching_window = BATCHING_WINDOW if consumer.batch_size > 10 else None
        waited_s = int(batching_window.to_seconds()) if batching_window else 0
        queue = sqs.Queue(
            self,
            construct_id,
            # AWS's advice: at least six times the function timeout plus the batching window,
            # so that a message is not handed out again while a batch holding it still runs
            visibility_timeout=Duration.seconds(max(30, 6 * consumer.timeout_s + waited_s)),
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=self.key,
            enforce_ssl=True,
            dead_letter_queue=sqs.DeadLetterQueue(queue=dead_letters, max_receive_count=consumer.max_receive_count),
        )
        function.add_event_source(
            event_sources.SqsEventSource(
                queue,
                batch_size=consumer.batch_size,
                # SQS hands over more than 10 messages at once only when allowed to wait for them
                max_batching_window=batching_window,
                report_batch_item_failures=True,
            )
        )
        self.queues[consumer.queue] = queue
        self.dead_letter_queues[consumer.queue] = dead_letters

    def _add_topic_rule(self, stage: str, rule: registry.TopicRule) -> None:
        if rule.queue not in self.queues:
            raise ValueError(f"topic rule {rule.name}: no queue consumer declares queue {rule.queue!r}")
        queue, dead_letters = self.queues[rule.queue], self.dead_letter_queues[rule.queue]
        # a rule may share its name with its queue (walk_messages, walk-messages)
        construct_id = f"{pascal_case(rule.name)}TopicRule"
        role = iam.Role(self, f"{construct_id}Role", assumed_by=iam.ServicePrincipal("iot.amazonaws.com"))
        # SendMessage alone (grant_send_messages adds GetQueueAttributes and GetQueueUrl, which the
        # rule never calls), and the data keys SQS makes and reads with the queues' key for it
        # (grant_send_messages would add kms:Encrypt and kms:ReEncrypt*, which SQS does not use)
        role.add_to_policy(
            iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[queue.queue_arn, dead_letters.queue_arn])
        )
        role.add_to_policy(
            iam.PolicyStatement(actions=["kms:GenerateDataKey", "kms:Decrypt"], resources=[self.key.key_arn])
        )
        iot.CfnTopicRule(
            self,
            construct_id,
            # rule names allow only letters, digits and underscores
            rule_name=re.sub(r"\W", "_", f"dogwalk_{stage}_{rule.name}"),
            topic_rule_payload=iot.CfnTopicRule.TopicRulePayloadProperty(
                sql=rule.sql,
                aws_iot_sql_version="2016-03-23",
                rule_disabled=False,
                actions=[
                    iot.CfnTopicRule.ActionProperty(
                        sqs=iot.CfnTopicRule.SqsActionProperty(
                            queue_url=queue.queue_url, role_arn=role.role_arn, use_base64=False
                        )
                    )
                ],
                # a message the rule could not deliver is kept with the consumer's failures
                error_action=iot.CfnTopicRule.ActionProperty(
                    sqs=iot.CfnTopicRule.SqsActionProperty(
                        queue_url=dead_letters.queue_url, role_arn=role.role_arn, use_base64=False
                    )
                ),
            ),
        )
