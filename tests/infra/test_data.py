"""The data tier: a VPC per region, Aurora PostgreSQL Serverless v2 as a global database behind RDS
Proxy, ElastiCache Serverless (Valkey), and which functions may reach them."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint_file
from data_tier import data_template
from extra_declarations import EXTRA_NOTIFY_ENDPOINT, EXTRAS_STACK
from stack_template import StackTemplate, Synthesized, referenced_ids

from dogwalk import registry
from infra.deployment import Deployment

pytestmark = pytest.mark.infra

NESTED_STACK = "AWS::CloudFormation::Stack"


@pytest.fixture(scope="module")
def data(synthesized: Synthesized) -> dict[str, StackTemplate]:
    """ "primary" / "secondary" → the region's data-tier template."""
    return {
        "primary": data_template(synthesized, synthesized.primary),
        "secondary": data_template(synthesized, synthesized.secondary),
    }


def declarations() -> dict[str, registry.Function]:
    """Every function of the regional stacks, by name."""
    functions: list[registry.Function] = [
        *registry.ENDPOINTS,
        registry.AUTHORIZER,
        registry.MIGRATOR,
        registry.RESTORE_VALIDATOR,
        *registry.SCHEDULES,
        *registry.QUEUE_CONSUMERS,
        *registry.WEBSOCKET_ROUTES,
    ]
    if registry.DEVICE_AUTHORIZER is not None:
        functions.append(registry.DEVICE_AUTHORIZER)
    return {function.name: function for function in functions}


def outputs_of(value: Any) -> set[str]:
    """The nested stack outputs a parent's value reads (`Fn::GetAtt [stack, Outputs.X]`)."""
    return {
        attribute.removeprefix("Outputs.")
        for attribute in _get_atts(value)
        if isinstance(attribute, str) and attribute.startswith("Outputs.")
    }


def _get_atts(value: Any) -> list[str]:
    if isinstance(value, dict):
        found = [value["Fn::GetAtt"][1]] if isinstance(value.get("Fn::GetAtt"), list) else []
        return found + [item for child in value.values() for item in _get_atts(child)]
    if isinstance(value, list):
        return [item for child in value for item in _get_atts(child)]
    return []


def output_source(template: StackTemplate, output: str) -> set[str]:
    """The logical ids a nested template's output points at."""
    return referenced_ids(template.template["Outputs"][output]["Value"])


def test_the_regional_stacks_hold_the_data_tier_as_one_nested_stack(regional: list[StackTemplate]) -> None:
    for template in regional:
        stacks = template.of_type(NESTED_STACK)
        assert len([key for key in stacks if key.startswith("Data")]) == 1
        assert len(template.resources) < 500


def test_vpc_has_isolated_subnets_in_two_azs_and_public_subnets_only_for_nat(
    data: dict[str, StackTemplate],
) -> None:
    for template in data.values():
        template.only("AWS::EC2::VPC")
        subnets = template.of_type("AWS::EC2::Subnet")
        public = {key for key, subnet in subnets.items() if subnet["Properties"].get("MapPublicIpOnLaunch")}
        isolated = {key for key in subnets if "Isolated" in key}
        assert len(isolated) == 2
        assert {json.dumps(subnets[key]["Properties"]["AvailabilityZone"]) for key in isolated}.__len__() == 2
        # the public subnets hold the NAT gateways and nothing else
        nat_subnets = {
            subnet_id
            for nat in template.of_type("AWS::EC2::NatGateway").values()
            for subnet_id in referenced_ids(nat["Properties"]["SubnetId"])
        }
        assert public and public <= {key for key in subnets if "Nat" in key}
        assert nat_subnets <= public
        for resource in template.resources.values():
            if resource["Type"] in {"AWS::RDS::DBCluster", "AWS::RDS::DBSubnetGroup", "AWS::RDS::DBProxy"}:
                assert not referenced_ids(resource["Properties"]) & public
        # the isolated subnets' route tables have no route out
        routes = template.of_type("AWS::EC2::Route").values()
        assert not [route for route in routes if "Isolated" in json.dumps(route["Properties"]["RouteTableId"])]


def test_nat_gateways_follow_the_stage(data: dict[str, StackTemplate], synthesized: Synthesized) -> None:
    expected = 2 if synthesized.deployment.stage == "prod" else 1
    for template in data.values():
        assert len(template.of_type("AWS::EC2::NatGateway")) == expected


def test_vpc_endpoints_for_what_the_functions_call(data: dict[str, StackTemplate]) -> None:
    for template in data.values():
        services = set()
        for endpoint in template.of_type("AWS::EC2::VPCEndpoint").values():
            # com.amazonaws.<region>.<service>, the region a literal or a Ref
            services.add(re.findall(r'\.([a-z0-9-]+)"', json.dumps(endpoint["Properties"]["ServiceName"]))[-1])
            if endpoint["Properties"].get("VpcEndpointType") == "Interface":
                assert endpoint["Properties"]["PrivateDnsEnabled"] is True
        assert services == {"secretsmanager", "sns", "email", "xray", "s3"}


def test_flow_logs_go_to_a_kms_encrypted_log_group(data: dict[str, StackTemplate]) -> None:
    for template in data.values():
        _, flow_log = template.only("AWS::EC2::FlowLog")
        [group] = referenced_ids(flow_log["Properties"]["LogGroupName"])
        assert "KmsKeyId" in template.properties(group)
        assert flow_log["Properties"]["TrafficType"] == "ALL"


def test_aurora_serverless_v2_global_database(data: dict[str, StackTemplate], synthesized: Synthesized) -> None:
    _, primary = data["primary"].only("AWS::RDS::DBCluster")
    _, secondary = data["secondary"].only("AWS::RDS::DBCluster")
    for cluster in (primary["Properties"], secondary["Properties"]):
        assert cluster["Engine"] == "aurora-postgresql"
        assert cluster["StorageEncrypted"] is True and "KmsKeyId" in cluster
        assert cluster["EnableIAMDatabaseAuthentication"] is True
        assert cluster["BackupRetentionPeriod"] == 35
        assert cluster["EnableCloudwatchLogsExports"] == ["postgresql"]
        assert cluster["DeletionProtection"] is (synthesized.deployment.stage == "prod")
        scaling = cluster["ServerlessV2ScalingConfiguration"]
        assert 0 < scaling["MinCapacity"] <= scaling["MaxCapacity"]
    _, global_cluster = data["primary"].only("AWS::RDS::GlobalCluster")
    identifier = global_cluster["Properties"]["GlobalClusterIdentifier"]
    [primary_id] = data["primary"].of_type("AWS::RDS::DBCluster")
    assert primary_id in referenced_ids(global_cluster["Properties"]["SourceDBClusterIdentifier"])
    assert secondary["Properties"]["GlobalClusterIdentifier"] == identifier
    # the secondary joins read-only: its credentials are the primary's, replicated
    assert not {"MasterUsername", "MasterUserPassword", "ManageMasterUserPassword"} & set(secondary["Properties"])
    assert "MasterUsername" in primary["Properties"]
    assert not data["secondary"].of_type("AWS::RDS::GlobalCluster")
    for template in data.values():
        instances = template.of_type("AWS::RDS::DBInstance").values()
        assert instances and all(i["Properties"]["DBInstanceClass"] == "db.serverless" for i in instances)
        assert all(i["Properties"]["PubliclyAccessible"] is False for i in instances)
    assert len(data["primary"].of_type("AWS::RDS::DBInstance")) == 2  # writer and reader


def test_database_secret_rotates_and_replicates_to_the_secondary(
    data: dict[str, StackTemplate], synthesized: Synthesized
) -> None:
    secret_id = data["primary"].secret("database")
    secret = data["primary"].properties(secret_id)
    assert secret["ReplicaRegions"] == [{"Region": synthesized.deployment.secondary_region}]
    _, schedule = data["primary"].only("AWS::SecretsManager::RotationSchedule")
    assert schedule["Properties"]["RotationRules"]["ScheduleExpression"] == "rate(30 days)"
    # the hosted single-user rotation application, in the VPC
    _, application = data["primary"].only("AWS::Serverless::Application")
    location = json.dumps(application["Properties"]["Location"])
    [mapping] = [name for name in data["primary"].template["Mappings"] if name in location]
    assert (
        data["primary"]
        .template["Mappings"][mapping]["aws"]["applicationId"]
        .endswith("/SecretsManagerRDSPostgreSQLRotationSingleUser")
    )
    assert "vpcSubnetIds" in application["Properties"]["Parameters"]


def test_proxies_require_tls_and_iam_auth(data: dict[str, StackTemplate]) -> None:
    for template in data.values():
        _, proxy = template.only("AWS::RDS::DBProxy")
        properties = proxy["Properties"]
        assert properties["RequireTLS"] is True
        assert properties["EngineFamily"] == "POSTGRESQL"
        assert [auth["IAMAuth"] for auth in properties["Auth"]] == ["REQUIRED"]


def test_cache_is_valkey_serverless_with_iam_auth_and_kms(data: dict[str, StackTemplate]) -> None:
    for template in data.values():
        _, cache = template.only("AWS::ElastiCache::ServerlessCache")
        properties = cache["Properties"]
        # serverless caches always encrypt in transit: the functions connect with rediss://
        assert properties["Engine"] == "valkey"
        assert "KmsKeyId" in properties and "UserGroupId" in properties
        users = {
            user["Properties"]["UserName"]: user["Properties"]
            for user in template.of_type("AWS::ElastiCache::User").values()
        }
        assert users["default"]["AccessString"].startswith("off")
        [app] = [user for name, user in users.items() if name != "default"]
        assert app["AuthenticationMode"] == {"Type": "iam"} and app["UserId"] == app["UserName"]


def security_group_ingress(template: StackTemplate, group_id: str) -> list[dict[str, Any]]:
    rules = [
        rule["Properties"]
        for rule in template.of_type("AWS::EC2::SecurityGroupIngress").values()
        if group_id in referenced_ids(rule["Properties"]["GroupId"])
    ]
    return rules + template.properties(group_id).get("SecurityGroupIngress", [])


def test_data_stores_accept_only_the_functions_proxy_and_rotation(data: dict[str, StackTemplate]) -> None:
    for role, template in data.items():
        cluster_id, cluster = template.only("AWS::RDS::DBCluster")
        [database] = referenced_ids(cluster["Properties"]["VpcSecurityGroupIds"])
        [proxy] = referenced_ids(template.only("AWS::RDS::DBProxy")[1]["Properties"]["VpcSecurityGroupIds"])
        [cache] = referenced_ids(
            template.only("AWS::ElastiCache::ServerlessCache")[1]["Properties"]["SecurityGroupIds"]
        )
        functions = {key for key in template.of_type("AWS::EC2::SecurityGroup") if "Functions" in key}
        rotation = {key for key in template.of_type("AWS::EC2::SecurityGroup") if key.startswith("Rotation")}
        assert len(functions) == 2 and len(rotation) == (1 if role == "primary" else 0)
        expected = {database: ({proxy} | rotation, 5432), proxy: (functions, 5432), cache: (functions, 6379)}
        for group, (sources, port) in expected.items():
            rules = security_group_ingress(template, group)
            assert {source for rule in rules for source in referenced_ids(rule["SourceSecurityGroupId"])} == sources
            # CDK's proxy and rotation also open the cluster's own port (5432, as a GetAtt)
            ports = {json.dumps(rule["FromPort"]) for rule in rules} | {json.dumps(rule["ToPort"]) for rule in rules}
            assert ports <= {str(port), json.dumps({"Fn::GetAtt": [cluster_id, "Endpoint.Port"]})}
        # nothing anywhere is open to the internet
        for group in template.of_type("AWS::EC2::SecurityGroup"):
            assert all("CidrIp" not in rule for rule in security_group_ingress(template, group))


def test_functions_using_the_database_are_in_the_vpc_and_may_connect_to_the_proxy(
    primary: StackTemplate, data: dict[str, StackTemplate]
) -> None:
    proxy_outputs = {output for output in data["primary"].template["Outputs"] if "RdsProxy" in output}
    functions = primary.python_functions()
    known = declarations()
    assert set(functions) == set(known)
    for name, logical_id in functions.items():
        uses = known[name].uses
        properties = primary.properties(logical_id)
        statements = primary.statements_of(logical_id)
        connects = [s for s in statements if "rds-db:connect" in json.dumps(s["Action"])]
        if registry.DATABASE in uses:
            assert "VpcConfig" in properties, name
            [statement] = connects
            assert outputs_of(statement["Resource"]) <= proxy_outputs
            assert json.dumps(statement["Resource"]).endswith('"/dogwalk"]]}')
            variables = properties["Environment"]["Variables"]
            assert outputs_of(variables["DATABASE_URL"]) <= proxy_outputs
            assert variables["DOGWALK_DATABASE_IAM_AUTH_REGION"] == "us-east-1"
        else:
            assert connects == [], name
        cache = [s for s in statements if "elasticache:Connect" in json.dumps(s["Action"])]
        assert bool(cache) is (registry.CACHE in uses), name
        assert ("VpcConfig" in properties) is bool(uses & {registry.DATABASE, registry.CACHE}), name


def test_only_functions_that_call_the_internet_run_behind_nat(
    primary: StackTemplate, data: dict[str, StackTemplate]
) -> None:
    known = declarations()
    template = data["primary"]
    for name, logical_id in primary.python_functions().items():
        vpc = primary.properties(logical_id).get("VpcConfig")
        if vpc is None:
            continue
        subnets = {output for output in outputs_of(vpc["SubnetIds"])}
        [group] = outputs_of(vpc["SecurityGroupIds"])
        internet = bool(known[name].uses & {registry.PAYMENTS, registry.WEBSOCKET_PUSH, registry.IDENTITY_PROVIDERS})
        kind = "Egress" if internet else "Isolated"
        assert all(kind in " ".join(output_source(template, output)) for output in subnets), name
        assert ("InternetFunctions" in " ".join(output_source(template, group))) is internet, name


def test_the_functions_that_verify_id_tokens_know_the_client_ids_and_reach_the_providers(
    primary: StackTemplate, synthesized_deployment: Deployment
) -> None:
    from dogwalk.config import environment_names

    names = environment_names()
    for name in ("sign_in_with_oidc", "delete_me"):
        logical_id = primary.python_functions()[name]
        variables = primary.properties(logical_id)["Environment"]["Variables"]
        assert variables[names["oidc_apple_client_ids"]] == synthesized_deployment.oidc_apple_client_ids
        assert variables[names["oidc_google_client_ids"]] == synthesized_deployment.oidc_google_client_ids
        assert registry.IDENTITY_PROVIDERS in registry.endpoint(name).uses
    # and only they: no other function is told the client ids
    told = [
        n
        for n, i in primary.python_functions().items()
        if names["oidc_apple_client_ids"] in primary.properties(i).get("Environment", {}).get("Variables", {})
    ]
    assert sorted(told) == ["delete_me", "sign_in_with_oidc"]


def test_a_function_without_data_stays_out_of_the_vpc(extras: StackTemplate) -> None:
    logical_id = extras.python_functions()[EXTRA_NOTIFY_ENDPOINT.name]
    assert "VpcConfig" not in extras.properties(logical_id)
    assert not [s for s in extras.statements_of(logical_id) if "rds-db" in json.dumps(s["Action"])]


def test_data_tier_templates_have_no_cfn_lint_findings(synthesized: Synthesized) -> None:
    regions = {
        synthesized.primary: synthesized.deployment.primary_region,
        synthesized.secondary: synthesized.deployment.secondary_region,
        EXTRAS_STACK: synthesized.deployment.primary_region,
    }
    findings = []
    for stack, region in regions.items():
        [path] = synthesized.outdir.glob(f"{stack.replace('-', '')}Data*.nested.template.json")
        findings += [
            f"{stack}: {match.rule.id} {match.message} ({match.path_string})"
            for match in lint_file(path, config=ManualArgs(regions=[region]))
            if match.rule.id != "W3005"
        ]
    assert findings == []
