"""Builds the functions' code on the synthesizing machine, so synth needs no Docker: the
dependencies layer with pip, and every asset (that layer, the core layer, the handlers) with its
bytecode compiled for Lambda's Python.

Lambda's code directories are read-only, so a module shipped without its `.pyc` is compiled from
source on every cold start and the result thrown away: measured here, importing `get_health` took
2.0 s against 0.4 s with bytecode. The bytecode is checked by source hash (PEP 552): zip archives
do not keep the sources' mtimes, which timestamp-checked bytecode would need, and a stale `.pyc`
is never run. Bytecode is specific to a Python version: only an interpreter of Lambda's version
can write it (the CI and deploy workflows synthesize with it); any other synthesizes without it,
says so, and gets other asset hashes.
"""

from __future__ import annotations

import compileall
import hashlib
import os
import py_compile
import re
import shutil
import subprocess  # nosec B404
import sys
import tempfile
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling, Stack
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.sources import CODE_EXCLUDES, REPO_ROOT, REQUIREMENTS_FILE

PYTHON_VERSION = "3.12"
# Lambda's python3.12 runtime is Amazon Linux 2023 (glibc 2.34): both tags run there, and
# some wheels (psycopg-binary 3.3) are published for manylinux_2_28 only.
PLATFORMS = ("manylinux2014_aarch64", "manylinux_2_28_aarch64")
# Already in the Lambda runtime; shipping them again only makes the layer bigger.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer")
# Only a fallback for machines where the local bundler is replaced; it is never used here.
BUILD_IMAGE = "public.ecr.aws/sam/build-python3.12"

# where Lambda unpacks layers and the function's own code: what tracebacks show
LAYER_ROOT = "/opt/python"
TASK_ROOT = "/var/task"

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def _project_name(requirement: str) -> str | None:
    match = _NAME.match(requirement.split("#", 1)[0])
    return re.sub(r"[-_.]+", "-", match.group(1)).lower() if match else None


def layer_requirements(requirements: str) -> str:
    """The requirements without the packages that the Lambda runtime already provides."""
    kept = [line for line in requirements.splitlines() if _project_name(line) not in RUNTIME_PROVIDED]
    return "\n".join(kept) + "\n"


def pip_arguments(requirements_file: Path, target: Path) -> list[str]:
    platforms = [argument for platform in PLATFORMS for argument in ("--platform", platform)]
    return [
        "install",
        "--requirement",
        str(requirements_file),
        "--target",
        str(target),
        *platforms,
        "--implementation",
        "cp",
        "--python-version",
        PYTHON_VERSION,
        "--only-binary=:all:",
        # pip would compile for this interpreter, checked by timestamps; compile_bytecode does it for Lambda
        "--no-compile",
        "--disable-pip-version-check",
        "--quiet",
    ]


def bytecode_tag(python_version: str = PYTHON_VERSION) -> str:
    """What `compile_bytecode` writes with this interpreter: part of every code asset's hash."""
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    return f"bytecode-{python_version}" if running == python_version else "no-bytecode"


def compile_bytecode(tree: Path, runtime_path: str, python_version: str = PYTHON_VERSION) -> bool:
    """Compile every module under `tree` for Lambda's Python, as found at `runtime_path` there;
    False (and a warning) when this interpreter is not of that version, or an error where
    `DOGWALK_REQUIRE_BYTECODE=1` (the deploy workflow)."""
    if bytecode_tag(python_version) == "no-bytecode":
        running = f"{sys.version_info.major}.{sys.version_info.minor}"
        warning = f"Python {running} cannot write Python {python_version}'s bytecode: {tree.name} ships without it"
        if os.environ.get("DOGWALK_REQUIRE_BYTECODE") == "1":  # the deploy workflow's setting
            raise RuntimeError(f"{warning}; synthesize with Python {python_version}")
        print(f"warning: {warning} (slower cold starts)", file=sys.stderr)
        return False
    compiled = compileall.compile_dir(
        str(tree), quiet=2, ddir=runtime_path, workers=0, invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH
    )
    if not compiled:
        raise RuntimeError(f"compiling {tree} for Lambda failed")
    return True


def remove_runtime_provided(site_packages: Path) -> None:
    """Delete packages the runtime provides, in case a dependency pulled them in again."""
    for entry in site_packages.iterdir():
        if _project_name(entry.name.split("-", 1)[0]) in RUNTIME_PROVIDED:
            shutil.rmtree(entry)
    # console scripts are useless in a layer
    shutil.rmtree(site_packages / "bin", ignore_errors=True)


@jsii.implements(ILocalBundling)
class PipLayerBundler:
    """Runs `pip install --platform ...` for Lambda's arm64 Python 3.12 into `<output>/python`."""

    def __init__(self, requirements_file: Path) -> None:
        self.requirements_file = requirements_file

    def try_bundle(self, output_dir: str, *, image: DockerImage, **_options: Any) -> bool:
        site_packages = Path(output_dir) / "python"
        with tempfile.TemporaryDirectory(prefix="dogwalk-layer-") as scratch:
            filtered = Path(scratch) / "requirements.txt"
            filtered.write_text(layer_requirements(self.requirements_file.read_text()))
            command = [sys.executable, "-m", "pip", *pip_arguments(filtered, site_packages)]
            # pip runs with arguments built here from the requirements file, never from input
            result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603  # nosec B603
        if result.returncode != 0:
            raise RuntimeError(f"building the dependencies layer failed:\n{result.stdout}\n{result.stderr}")
        remove_runtime_provided(site_packages)
        compile_bytecode(site_packages, LAYER_ROOT)
        # True tells CDK the output is complete, so it never falls back to Docker
        return True


@jsii.implements(ILocalBundling)
class SourceBundler:
    """Copies a source folder without the synthesizing machine's bytecode, then compiles it for Lambda."""

    def __init__(self, source: Path, runtime_path: str) -> None:
        self.source = source
        self.runtime_path = runtime_path

    def try_bundle(self, output_dir: str, *, image: DockerImage, **_options: Any) -> bool:
        output = Path(output_dir)
        shutil.copytree(self.source, output, ignore=shutil.ignore_patterns(*CODE_EXCLUDES), dirs_exist_ok=True)
        compile_bytecode(output, self.runtime_path)
        return True


def dependencies_fingerprint(requirements_file: Path = REQUIREMENTS_FILE) -> str:
    """Changes exactly when the layer's content would: the requirements and how pip is run."""
    recipe = "\n".join([requirements_file.read_text(), *PLATFORMS, PYTHON_VERSION, *RUNTIME_PROVIDED, bytecode_tag()])
    return hashlib.sha256(recipe.encode()).hexdigest()


def source_fingerprint(source: Path) -> str:
    """Changes exactly when a source asset's content would: its files (bytecode aside) and whether
    this machine compiles them."""
    digest = hashlib.sha256(bytecode_tag().encode())
    for path in sorted(source.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            digest.update(b"\0" + str(path.relative_to(source)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def source_code(scope: Construct, source: Path, runtime_path: str) -> lambda_.AssetCode:
    """A code asset of our own modules (the core layer, the handlers), compiled for Lambda. As for
    the dependencies layer, an asset staged without bundling gets a hash of its own."""
    fingerprint = source_fingerprint(source)
    compile_command = f"python -m compileall -q -d {runtime_path} --invalidation-mode checked-hash /asset-output"
    return lambda_.Code.from_asset(
        str(source),
        exclude=CODE_EXCLUDES,
        asset_hash=fingerprint if Stack.of(scope).bundling_required else f"unbuilt-{fingerprint}",
        asset_hash_type=AssetHashType.CUSTOM,
        bundling=BundlingOptions(
            image=DockerImage.from_registry(BUILD_IMAGE),
            command=["bash", "-c", f"cp -r /asset-input/. /asset-output && {compile_command}"],
            local=SourceBundler(source, runtime_path),
        ),
    )


def dependencies_layer_code(scope: Construct, requirements_file: Path = REQUIREMENTS_FILE) -> lambda_.AssetCode:
    """The dependencies layer's code, built locally from `requirements.txt`.

    The asset hash is computed from the requirements, not by walking the repository (the
    asset's source folder is the repository root, where `requirements.txt` lives), and CDK
    skips bundling when `cdk.out` already holds a bundle with that hash.

    When bundling is skipped for the stack (context `aws:cdk:bundling-stacks`, which the CLI
    sets to the stacks it deploys and the tests set to `[]`), CDK stages the unbuilt source
    folder instead. It then gets a hash of its own, so that an assembly synthesized that way
    can never publish the repository under the real layer's hash.
    """
    docker_command = (
        f"pip install --no-compile -r requirements.txt -t /asset-output/python"
        f" && rm -rf /asset-output/python/bin {' '.join(f'/asset-output/python/{name}*' for name in RUNTIME_PROVIDED)}"
        f" && python -m compileall -q -d {LAYER_ROOT} --invalidation-mode checked-hash /asset-output/python"
    )
    fingerprint = dependencies_fingerprint(requirements_file)
    return lambda_.Code.from_asset(
        str(REPO_ROOT),
        asset_hash=fingerprint if Stack.of(scope).bundling_required else f"unbuilt-{fingerprint}",
        asset_hash_type=AssetHashType.CUSTOM,
        bundling=BundlingOptions(
            image=DockerImage.from_registry(BUILD_IMAGE),
            command=["bash", "-c", docker_command],
            local=PipLayerBundler(requirements_file),
        ),
    )
