"""Scheduled jobs: one EventBridge rule per registry `Schedule`, invoking its function."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from dogwalk import registry
from infra.functions import pascal_case

MAX_EVENT_AGE_S = 24 * 3600


class ScheduledJobs(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        jobs: Sequence[tuple[registry.Schedule, lambda_.IFunction]],
    ) -> None:
        super().__init__(scope, construct_id)
        for schedule, function in jobs:
            events.Rule(
                self,
                pascal_case(schedule.name),
                description=f"dogwalk {schedule.name} every {schedule.every_s} s",
                schedule=events.Schedule.expression(schedule.expression),
                # a run that cannot start before the next one is due is not worth retrying
                # (EventBridge keeps an event at most a day)
                targets=[
                    targets.LambdaFunction(
                        function,
                        retry_attempts=2,
                        max_event_age=Duration.seconds(min(MAX_EVENT_AGE_S, max(60, schedule.every_s))),
                    )
                ],
            )
