"""The monthly restore test of Aurora (infra/backups.py) and its validation function's rule and grants."""

from __future__ import annotations

import json

import pytest
from nested_stacks import Nested, nested
from stack_template import StackTemplate, Synthesized, referenced_ids

from dogwalk import registry
from dogwalk.config import environment_names
from infra.backups import RESTORE_TEST_SCHEDULE, RESTORE_VALIDATION_HOURS

pytestmark = pytest.mark.infra

PLAN = "AWS::Backup::RestoreTestingPlan"
SELECTION = "AWS::Backup::RestoreTestingSelection"


@pytest.fixture(scope="module")
def data(synthesized: Synthesized, with_functions: dict[str, StackTemplate]) -> list[Nested]:
    return [
        nested(synthesized, name, "Data", parent=with_functions[name])
        for name in (synthesized.primary, synthesized.secondary)
    ]


def test_the_primary_region_restores_the_latest_recovery_point_monthly(data: list[Nested]) -> None:
    primary, secondary = data
    _, plan = primary.template.only(PLAN)
    properties = plan["Properties"]
    assert properties["ScheduleExpression"] == RESTORE_TEST_SCHEDULE == "cron(0 6 1 * ? *)"
    selection = properties["RecoveryPointSelection"]
    assert selection["Algorithm"] == "LATEST_WITHIN_WINDOW"
    assert selection["RecoveryPointTypes"] == ["SNAPSHOT"]
    [vault] = primary.template.of_type("AWS::Backup::BackupVault")
    assert referenced_ids(selection["IncludeVaults"]) == {vault}
    # the secondary region's vault only receives copies: no restore test there
    assert not secondary.template.of_type(PLAN) and not secondary.template.of_type(SELECTION)


def test_the_selection_is_the_aurora_cluster_restored_where_only_the_validation_reaches(data: list[Nested]) -> None:
    primary, _ = data
    template = primary.template
    _, selection = template.only(SELECTION)
    properties = selection["Properties"]
    [cluster] = template.of_type("AWS::RDS::DBCluster")
    assert properties["ProtectedResourceType"] == "Aurora"
    assert cluster in referenced_ids(properties["ProtectedResourceArns"])
    assert properties["ValidationWindowHours"] == RESTORE_VALIDATION_HOURS
    role = template.properties(properties["IamRoleArn"]["Fn::GetAtt"][0])
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "backup.amazonaws.com"}
    assert "AWSBackupServiceRolePolicyForRestores" in json.dumps(role["ManagedPolicyArns"])
    overrides = properties["RestoreMetadataOverrides"]
    [restored_group] = referenced_ids(overrides["vpcSecurityGroupIds"])
    [subnets] = template.of_type("AWS::RDS::DBSubnetGroup")
    assert referenced_ids(overrides["dbSubnetGroupName"]) == {subnets}
    # the restored clusters' group admits the functions' group on 5432, and the live cluster's does not
    ingress = [
        rule["Properties"]
        for rule in template.of_type("AWS::EC2::SecurityGroupIngress").values()
        if referenced_ids(rule["Properties"]["GroupId"]) == {restored_group}
    ]
    assert [(rule["FromPort"], rule["ToPort"]) for rule in ingress] == [(5432, 5432)]
    live_groups = referenced_ids(template.properties(cluster)["VpcSecurityGroupIds"])
    assert restored_group not in live_groups


def test_a_completed_restore_job_invokes_the_validation_function(
    primary: StackTemplate, regional: list[StackTemplate]
) -> None:
    function = primary.python_functions()[registry.RESTORE_VALIDATOR.name]
    # no restore test in the secondary region, so no rule there
    assert not [
        rule for rule in regional[1].of_type("AWS::Events::Rule").values() if "EventPattern" in rule["Properties"]
    ]
    [(rule_id, rule)] = [
        (logical_id, resource)
        for logical_id, resource in primary.of_type("AWS::Events::Rule").items()
        if "EventPattern" in resource["Properties"]
    ]
    assert rule["Properties"]["EventPattern"] == {
        "source": ["aws.backup"],
        "detail-type": ["Restore Job State Change"],
        "detail": {"status": ["COMPLETED"]},
    }
    [target] = rule["Properties"]["Targets"]
    assert referenced_ids(target["Arn"]) == {function}
    permissions = [
        p["Properties"]
        for p in primary.of_type("AWS::Lambda::Permission").values()
        if referenced_ids(p["Properties"]["FunctionName"]) == {function}
    ]
    assert [(p["Principal"], referenced_ids(p["SourceArn"])) for p in permissions] == [
        ("events.amazonaws.com", {rule_id})
    ]
    variables = primary.properties(function)["Environment"]["Variables"]
    assert variables[environment_names()["database_secret_id"]] == "dogwalk/dev/database"


def test_the_validation_may_read_the_job_report_its_verdict_and_read_the_database_secret(
    primary: StackTemplate,
) -> None:
    function = primary.python_functions()[registry.RESTORE_VALIDATOR.name]
    actions = {
        action
        for statement in primary.statements_of(function)
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    }
    assert {"backup:DescribeRestoreJob", "backup:PutRestoreValidationResult", "rds:DescribeDBClusters"} <= actions
    assert "secretsmanager:GetSecretValue" in actions
    # no other function may report restore verdicts
    for name, other in primary.python_functions().items():
        if name != registry.RESTORE_VALIDATOR.name:
            assert not any(
                "backup:PutRestoreValidationResult" in json.dumps(statement["Action"])
                for statement in primary.statements_of(other)
            ), name
