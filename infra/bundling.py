"""Builds the dependencies layer with pip on the synthesizing machine, so synth needs no Docker."""

from __future__ import annotations

import hashlib
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

from infra.sources import REPO_ROOT, REQUIREMENTS_FILE

PYTHON_VERSION = "3.12"
# Lambda's python3.12 runtime is Amazon Linux 2023 (glibc 2.34): both tags run there, and
# some wheels (psycopg-binary 3.3) are published for manylinux_2_28 only.
PLATFORMS = ("manylinux2014_aarch64", "manylinux_2_28_aarch64")
# Already in the Lambda runtime; shipping them again only makes the layer bigger.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer")
# Only a fallback for machines where the local bundler is replaced; it is never used here.
BUILD_IMAGE = "public.ecr.aws/sam/build-python3.12"

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
        # bytecode would be compiled for this interpreter, not for Lambda's
        "--no-compile",
        "--disable-pip-version-check",
        "--quiet",
    ]


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
        # True tells CDK the output is complete, so it never falls back to Docker
        return True


def dependencies_fingerprint(requirements_file: Path = REQUIREMENTS_FILE) -> str:
    """Changes exactly when the layer's content would: the requirements and how pip is run."""
    recipe = "\n".join([requirements_file.read_text(), *PLATFORMS, PYTHON_VERSION, *RUNTIME_PROVIDED])
    return hashlib.sha256(recipe.encode()).hexdigest()


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
