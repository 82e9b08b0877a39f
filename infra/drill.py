"""Failover drill: which regional endpoint each public name resolves to, region by region healthy or not.

    python -m infra.drill               # cdk.out's templates (synthesized first if they have no failover records)
    python -m infra.drill --outdir DIR  # the templates of another cloud assembly
    python -m infra.drill --synth       # synthesize afresh (no bundling) into a temporary folder

Everything is read from the synthesized templates (top-level stacks and their nested stacks):
the failover record sets and their health checks (global stack), the regional records the
failover records point at (each regional stack's edge) and what those point at. A health check
belongs to the region whose record carries the name it probes. Route 53's failover rule:
the PRIMARY record answers while its health check is healthy; otherwise the SECONDARY answers
while its own is healthy; when both are unhealthy Route 53 answers the PRIMARY (every record
of the group counts as healthy again).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.sources import REPO_ROOT

RECORD_SET = "AWS::Route53::RecordSet"
HEALTH_CHECK = "AWS::Route53::HealthCheck"
NESTED_STACK = "AWS::CloudFormation::Stack"
STATES = ("both healthy", "primary unhealthy", "secondary unhealthy", "both unhealthy")


@dataclass(frozen=True)
class Template:
    stack: str  # `DogWalk-dev-primary`, or `DogWalk-dev-primary/Edge…` for a nested stack
    region: str
    body: dict[str, Any]
    file: str  # relative to the cloud assembly

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        resources: dict[str, dict[str, Any]] = self.body.get("Resources", {})
        return {key: value for key, value in resources.items() if value["Type"] == resource_type}


@dataclass(frozen=True)
class Record:
    name: str  # without the trailing dot
    type: str
    template: Template
    properties: dict[str, Any]

    @property
    def failover(self) -> str | None:
        value = self.properties.get("Failover")
        return str(value) if value is not None else None

    @property
    def points_at(self) -> Any:
        """The alias target's DNS name, or the first value of a CNAME (strings or intrinsics)."""
        alias = self.properties.get("AliasTarget")
        if alias is not None:
            return _undot(alias["DNSName"])
        return _undot(self.properties["ResourceRecords"][0])


@dataclass(frozen=True)
class Answer:
    record: str  # the regional name the failover name resolves to
    region: str
    stack: str
    target: str  # what the regional name points at, in words


def _undot(value: Any) -> Any:
    return value.removesuffix(".") if isinstance(value, str) else value


def load_templates(outdir: Path) -> list[Template]:
    """Every stack of the cloud assembly with its region, and every nested stack below it."""
    manifest = json.loads((outdir / "manifest.json").read_text())
    artifacts: dict[str, dict[str, Any]] = manifest["artifacts"]
    nested_files: dict[str, str] = {}
    for artifact in artifacts.values():
        if artifact["type"] == "cdk:asset-manifest":
            assets = json.loads((outdir / artifact["properties"]["file"]).read_text())
            for asset_hash, asset in assets.get("files", {}).items():
                nested_files[asset_hash] = asset["source"]["path"]
    templates: list[Template] = []
    for name, artifact in artifacts.items():
        if artifact["type"] == "aws:cloudformation:stack":
            region = artifact["environment"].rsplit("/", 1)[1]
            templates.extend(_with_nested(outdir, name, region, artifact["properties"]["templateFile"], nested_files))
    return templates


def _with_nested(outdir: Path, stack: str, region: str, file: str, nested_files: dict[str, str]) -> Iterator[Template]:
    template = Template(stack, region, json.loads((outdir / file).read_text()), file)
    yield template
    for logical_id, resource in template.of_type(NESTED_STACK).items():
        url = json.dumps(resource["Properties"]["TemplateURL"])
        for asset_hash, path in nested_files.items():
            if f"/{asset_hash}.json" in url:
                # `DogWalk-dev-primary/Edge` for the resource `EdgeNestedStackEdgeNestedStackResource1234ABCD`
                label = logical_id.split("NestedStack")[0] or logical_id
                yield from _with_nested(outdir, f"{stack}/{label}", region, path, nested_files)


def records(templates: list[Template]) -> list[Record]:
    return [
        Record(_undot(properties["Name"]), properties["Type"], template, properties)
        for template in templates
        for properties in (resource["Properties"] for resource in template.of_type(RECORD_SET).values())
        if isinstance(properties.get("Name"), str)
    ]


class Drill:
    """The failover groups of a cloud assembly and how each state resolves them."""

    def __init__(self, templates: list[Template]) -> None:
        self.records = records(templates)
        self.regional = {record.name: record for record in self.records if record.failover is None}
        self.groups: dict[str, dict[str, Record]] = {}
        for record in self.records:
            if record.failover is not None:
                self.groups.setdefault(record.name, {})[record.failover] = record
        for name, group in self.groups.items():
            if set(group) != {"PRIMARY", "SECONDARY"}:
                raise ValueError(f"{name}: failover records {sorted(group)}, expected PRIMARY and SECONDARY")
        primary = {self.region_of(group["PRIMARY"]) for group in self.groups.values()}
        secondary = {self.region_of(group["SECONDARY"]) for group in self.groups.values()}
        if len(primary) != 1 or len(secondary) != 1:
            raise ValueError(f"the failover groups disagree on the regions: {primary} / {secondary}")
        self.primary_region, self.secondary_region = primary.pop(), secondary.pop()

    def health_check(self, record: Record) -> tuple[str, str]:
        """(URL probed, region it stands for) of a failover record's health check."""
        reference = record.properties.get("HealthCheckId")
        if not isinstance(reference, dict) or "Fn::GetAtt" not in reference:
            raise ValueError(f"{record.name} ({record.failover}) has no health check of its template")
        check = record.template.of_type(HEALTH_CHECK)[reference["Fn::GetAtt"][0]]["Properties"]["HealthCheckConfig"]
        fqdn = check["FullyQualifiedDomainName"]
        if fqdn not in self.regional:
            raise ValueError(f"health check on {fqdn}, which no regional record names")
        url = f"{check['Type'].lower()}://{fqdn}:{check.get('Port', 443)}{check.get('ResourcePath', '/')}"
        return url, self.regional[fqdn].template.region

    def region_of(self, record: Record) -> str:
        return self.health_check(record)[1]

    def states(self) -> dict[str, set[str]]:
        """State name → the regions healthy in it."""
        both = {self.primary_region, self.secondary_region}
        return {
            STATES[0]: both,
            STATES[1]: {self.secondary_region},
            STATES[2]: {self.primary_region},
            STATES[3]: set(),
        }

    def resolve(self, name: str, healthy: set[str]) -> Answer:
        group = self.groups[name]
        chosen = group["PRIMARY"]
        if self.region_of(chosen) not in healthy and self.region_of(group["SECONDARY"]) in healthy:
            chosen = group["SECONDARY"]
        target = chosen.points_at
        if target not in self.regional:
            raise ValueError(f"{name} ({chosen.failover}) points at {target}, which no regional record names")
        regional = self.regional[target]
        return Answer(target, regional.template.region, regional.template.stack, _describe(regional))

    def table(self) -> dict[str, dict[str, Answer]]:
        return {
            state: {name: self.resolve(name, healthy) for name in sorted(self.groups)}
            for state, healthy in self.states().items()
        }


def _describe(record: Record) -> str:
    """What a regional record points at, from the resource its value references."""
    value = record.points_at
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        logical_id, attribute = value["Fn::GetAtt"]
        resource = record.template.body["Resources"][logical_id]
        kind = {
            "AWS::ApiGateway::DomainName": "REST API custom domain",
            "AWS::ApiGatewayV2::DomainName": "WebSocket API custom domain",
        }.get(resource["Type"])
        if kind is not None:
            return f"{kind} {resource['Properties']['DomainName']} ({attribute})"
        if resource["Type"] == "Custom::AWS" and "iot:Data-ATS" in json.dumps(resource["Properties"]):
            return "IoT Core iot:Data-ATS endpoint (custom domain configurations)"
        return f"{resource['Type']} {logical_id}.{attribute}"
    return str(value)


def synthesize(outdir: Path) -> None:
    """`python app.py` into `outdir`, without bundling (no pip, no Docker)."""
    env = {
        **os.environ,
        "CDK_OUTDIR": str(outdir),
        "CDK_CONTEXT_JSON": json.dumps({"aws:cdk:bundling-stacks": []}),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
    # our own app, with this interpreter
    subprocess.run([sys.executable, str(REPO_ROOT / "app.py")], cwd=REPO_ROOT, env=env, check=True)  # noqa: S603  # nosec B603


def render(drill: Drill) -> str:
    lines = [f"primary region {drill.primary_region}, secondary region {drill.secondary_region}", "health checks:"]
    for name, group in sorted(drill.groups.items()):
        for role in ("PRIMARY", "SECONDARY"):
            url, region = drill.health_check(group[role])
            lines.append(f"  {name} {role:<9} {url} ({region})")
    for state, answers in drill.table().items():
        healthy = drill.states()[state]
        lines.append("")
        note = " — Route 53 then counts every record as healthy: PRIMARY answers" if not healthy else ""
        lines.append(f"{state} (healthy: {', '.join(sorted(healthy)) or 'none'}){note}:")
        for name, answer in answers.items():
            lines.append(f"  {name:<28} -> {answer.record:<36} {answer.region:<10} {answer.stack}: {answer.target}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.drill", description=__doc__.split("\n\n")[0])
    parser.add_argument("--outdir", type=Path, default=REPO_ROOT / "cdk.out", help="cloud assembly to read")
    parser.add_argument("--synth", action="store_true", help="synthesize afresh into a temporary folder")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="dogwalk-drill-") as scratch:
        outdir: Path = args.outdir
        if args.synth or not _has_failover(outdir):
            outdir = Path(scratch)
            print(f"synthesizing into {outdir} ...", file=sys.stderr)
            synthesize(outdir)
        print(render(Drill(load_templates(outdir))))
    return 0


def _has_failover(outdir: Path) -> bool:
    if not (outdir / "manifest.json").exists():
        return False
    try:
        return any(record.failover for record in records(load_templates(outdir)))
    except (OSError, KeyError, ValueError):
        return False


if __name__ == "__main__":
    sys.exit(main())
