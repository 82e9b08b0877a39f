"""AWS Backup: a KMS-encrypted vault per region, and in the primary region a daily plan for the Aurora
cluster kept 35 days and copied to the secondary region's vault."""

from __future__ import annotations

import json

import pytest
from data_tier import data_template
from stack_template import StackTemplate, Synthesized, referenced_ids

pytestmark = pytest.mark.infra


@pytest.fixture(scope="module")
def primary_data(synthesized: Synthesized) -> StackTemplate:
    return data_template(synthesized, synthesized.primary)


@pytest.fixture(scope="module")
def secondary_data(synthesized: Synthesized) -> StackTemplate:
    return data_template(synthesized, synthesized.secondary)


def test_each_region_has_a_kms_encrypted_vault(
    primary_data: StackTemplate, secondary_data: StackTemplate, synthesized: Synthesized
) -> None:
    deployment = synthesized.deployment
    for template, region in ((primary_data, deployment.primary_region), (secondary_data, deployment.secondary_region)):
        _, vault = template.only("AWS::Backup::BackupVault")
        assert vault["Properties"]["BackupVaultName"] == f"dogwalk-{deployment.stage}-{region}"
        assert referenced_ids(vault["Properties"]["EncryptionKeyArn"]) == set(template.of_type("AWS::KMS::Key"))
        assert vault["DeletionPolicy"] == "Retain"


def test_daily_plan_kept_35_days_and_copied_to_the_secondary_region(
    primary_data: StackTemplate, synthesized: Synthesized
) -> None:
    deployment = synthesized.deployment
    _, plan = primary_data.only("AWS::Backup::BackupPlan")
    [rule] = plan["Properties"]["BackupPlan"]["BackupPlanRule"]
    assert rule["ScheduleExpression"] == "cron(0 5 * * ? *)"  # daily
    assert rule["Lifecycle"] == {"DeleteAfterDays": 35}
    [copy] = rule["CopyActions"]
    assert copy["Lifecycle"] == {"DeleteAfterDays": 35}
    # built from the context, not a cross-region reference
    destination = json.dumps(copy["DestinationBackupVaultArn"])
    assert f"arn:aws:backup:{deployment.secondary_region}:" in destination
    assert f":backup-vault:dogwalk-{deployment.stage}-{deployment.secondary_region}" in destination
    assert referenced_ids(copy["DestinationBackupVaultArn"]) == {"AWS::AccountId"}


def test_selection_is_the_aurora_cluster(primary_data: StackTemplate) -> None:
    _, selection = primary_data.only("AWS::Backup::BackupSelection")
    [cluster] = primary_data.of_type("AWS::RDS::DBCluster")
    assert referenced_ids(selection["Properties"]["BackupSelection"]["Resources"]) >= {cluster}


def test_aurora_keeps_35_days_of_point_in_time_recovery(
    primary_data: StackTemplate, secondary_data: StackTemplate
) -> None:
    for template in (primary_data, secondary_data):
        _, cluster = template.only("AWS::RDS::DBCluster")
        assert cluster["Properties"]["BackupRetentionPeriod"] == 35


def test_the_secondary_region_has_no_plan_of_its_own(secondary_data: StackTemplate) -> None:
    assert secondary_data.of_type("AWS::Backup::BackupPlan") == {}
