"""The dependencies layer is built by pip for Lambda's platform, without boto3, and never in tests;
every code asset carries bytecode for Lambda's Python, checked by source hash."""

from __future__ import annotations

import importlib.util
import json
import marshal
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, DockerImage
from stack_template import Synthesized

from infra import bundling
from infra.deployment import cdk_json_context
from infra.sources import REPO_ROOT, REQUIREMENTS_FILE
from infra.stack import RegionalStack

pytestmark = pytest.mark.infra


def test_runtime_provided_packages_are_left_out_of_the_requirements() -> None:
    requirements = "# comment\nboto3==1.44.8\nBotoCore>=1\npydantic==2.14.4\ns3transfer\npsycopg[binary]==3.3.9\n"
    kept = bundling.layer_requirements(requirements).splitlines()
    assert kept == ["# comment", "pydantic==2.14.4", "psycopg[binary]==3.3.9"]


def test_the_real_requirements_keep_everything_but_boto3() -> None:
    kept = bundling.layer_requirements(REQUIREMENTS_FILE.read_text())
    assert "boto3" not in kept
    assert "pydantic" in kept


def test_pip_targets_lambda_arm64_python312_with_wheels_only(tmp_path: Path) -> None:
    arguments = bundling.pip_arguments(tmp_path / "requirements.txt", tmp_path / "python")
    assert arguments[:5] == [
        "install",
        "--requirement",
        str(tmp_path / "requirements.txt"),
        "--target",
        str(tmp_path / "python"),
    ]
    joined = " ".join(arguments)
    assert "--platform manylinux2014_aarch64" in joined
    assert "--implementation cp --python-version 3.12 --only-binary=:all:" in joined


def test_local_bundler_runs_pip_and_drops_what_the_runtime_provides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[list[str]] = []

    def fake_pip(command: list[str], **_kwargs: Any) -> subprocess.CompletedProcess[str]:
        calls.append(command)
        target = Path(command[command.index("--target") + 1])
        for name in ("pydantic", "boto3", "boto3-1.44.8.dist-info", "botocore", "s3transfer", "bin"):
            (target / name).mkdir(parents=True)
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(bundling.subprocess, "run", fake_pip)
    bundler = bundling.PipLayerBundler(REQUIREMENTS_FILE)
    assert bundler.try_bundle(str(tmp_path), image=DockerImage.from_registry(bundling.BUILD_IMAGE)) is True
    assert [entry.name for entry in (tmp_path / "python").iterdir()] == ["pydantic"]
    [command] = calls
    requirements = command[command.index("--requirement") + 1]
    assert requirements != str(REQUIREMENTS_FILE), "pip gets the filtered copy"


def test_failed_pip_fails_the_synth(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def failing_pip(command: list[str], **_kwargs: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(command, 1, "", "No matching distribution")

    monkeypatch.setattr(bundling.subprocess, "run", failing_pip)
    with pytest.raises(RuntimeError, match="No matching distribution"):
        bundling.PipLayerBundler(REQUIREMENTS_FILE).try_bundle(
            str(tmp_path), image=DockerImage.from_registry(bundling.BUILD_IMAGE)
        )


def dependencies_layer_asset(assets: dict[str, Any], outdir: Path) -> tuple[str, str]:
    """(asset hash, staged path) of the dependencies layer, built or not."""
    for asset_hash, entry in assets["files"].items():
        path = entry["source"]["path"]
        if path == str(REPO_ROOT) or (outdir / path / "python" / "pydantic").exists():
            return asset_hash, path
    raise AssertionError("no dependencies layer among the assets")


def test_tests_never_build_the_layer(synthesized: Synthesized, assets: dict[str, Any]) -> None:
    # with bundling skipped, CDK points the asset at its source folder instead of running pip
    _, path = dependencies_layer_asset(assets, synthesized.outdir)
    assert path == str(REPO_ROOT)


def test_a_built_layer_and_an_unbuilt_one_never_share_a_hash(
    synthesized: Synthesized, assets: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Otherwise an assembly synthesized without bundling could publish the repository as the layer."""

    def fake_pip(command: list[str], **_kwargs: Any) -> subprocess.CompletedProcess[str]:
        target = Path(command[command.index("--target") + 1])
        (target / "pydantic").mkdir(parents=True)
        (target / "pydantic" / "__init__.py").write_text("")
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(bundling.subprocess, "run", fake_pip)
    # bundling on: CDK calls the local bundler through jsii when the layer is created
    app = App(context=cdk_json_context(), outdir=str(tmp_path))
    stack = RegionalStack(app, "Bundled", deployment=synthesized.deployment, endpoints=())
    app.synth()
    bundled = json.loads((tmp_path / f"{stack.stack_name}.assets.json").read_text())
    built_hash, built_path = dependencies_layer_asset(bundled, tmp_path)
    unbuilt_hash, _ = dependencies_layer_asset(assets, synthesized.outdir)
    assert (tmp_path / built_path / "python" / "pydantic" / "__init__.py").exists()
    assert built_hash != unbuilt_hash


def test_layer_fingerprint_follows_the_requirements(tmp_path: Path) -> None:
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text("pydantic==2.14.4\n")
    second.write_text("pydantic==2.14.5\n")
    assert bundling.dependencies_fingerprint(first) != bundling.dependencies_fingerprint(second)
    assert bundling.dependencies_fingerprint(first) == bundling.dependencies_fingerprint(first)


RUNNING = f"{sys.version_info.major}.{sys.version_info.minor}"


def test_bytecode_is_compiled_checked_by_source_hash_with_lambdas_paths(tmp_path: Path) -> None:
    package = tmp_path / "tree" / "pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "walks.py").write_text("def fail():\n    raise ValueError('where')\n")

    assert bundling.compile_bytecode(tmp_path / "tree", "/opt/python", python_version=RUNNING) is True

    pyc = Path(importlib.util.cache_from_source(str(package / "walks.py")))
    data = pyc.read_bytes()
    assert data[:4] == importlib.util.MAGIC_NUMBER
    assert int.from_bytes(data[4:8], "little") == 0b11  # PEP 552: hash-based, checked against the source
    code = marshal.loads(data[16:])  # noqa: S302 - the bytecode this test just wrote
    assert code.co_filename == "/opt/python/pkg/walks.py"  # what a traceback shows
    # the sources' mtimes do not matter (zip archives do not keep them): the import uses the bytecode
    os.utime(package / "walks.py", (0, 0))
    run = subprocess.run(
        [sys.executable, "-v", "-c", "import pkg.walks"],
        cwd=tmp_path / "tree", env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}, capture_output=True, text=True,
        check=True,
    )  # fmt: skip
    assert f"{pyc} matches {package / 'walks.py'}" in run.stderr


def test_a_module_that_does_not_compile_fails_the_synth(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("def walk(:\n")

    with pytest.raises(RuntimeError, match="for Lambda failed"):
        bundling.compile_bytecode(tmp_path, "/var/task", python_version=RUNNING)


def test_another_python_writes_no_bytecode_and_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "module.py").write_text("x = 1\n")

    assert bundling.compile_bytecode(tmp_path, "/var/task", python_version="2.7") is False

    assert not list(tmp_path.rglob("*.pyc"))
    assert "ships without it" in capsys.readouterr().err


def test_a_deploy_that_requires_bytecode_fails_on_another_python(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "module.py").write_text("x = 1\n")
    monkeypatch.setenv("DOGWALK_REQUIRE_BYTECODE", "1")

    with pytest.raises(RuntimeError, match=r"synthesize with Python 2\.7"):
        bundling.compile_bytecode(tmp_path, "/var/task", python_version="2.7")


def test_source_bundler_copies_without_this_machines_bytecode(tmp_path: Path) -> None:
    source, output = tmp_path / "source", tmp_path / "output"
    (source / "auth" / "__pycache__").mkdir(parents=True)
    (source / "auth" / "get_me.py").write_text("x = 1\n")
    (source / "auth" / "__pycache__" / "get_me.cpython-311.pyc").write_bytes(b"stale")

    bundler = bundling.SourceBundler(source, bundling.TASK_ROOT)
    assert bundler.try_bundle(str(output), image=DockerImage.from_registry(bundling.BUILD_IMAGE)) is True

    assert (output / "auth" / "get_me.py").read_text() == "x = 1\n"
    assert not (output / "auth" / "__pycache__" / "get_me.cpython-311.pyc").exists()
    compiled = list(output.rglob("*.pyc"))
    assert [path.name for path in compiled] == (
        ["get_me.cpython-312.pyc"] if RUNNING == bundling.PYTHON_VERSION else []
    )


def test_source_fingerprint_follows_the_files_not_their_bytecode(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    before = bundling.source_fingerprint(tmp_path)
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"whatever")
    assert bundling.source_fingerprint(tmp_path) == before
    (tmp_path / "a.py").write_text("x = 2\n")
    assert bundling.source_fingerprint(tmp_path) != before
