"""Where the code that the stacks deploy lives in this repository."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = REPO_ROOT / "functions"
CORE_LAYER_DIR = REPO_ROOT / "layers" / "core"
REQUIREMENTS_FILE = REPO_ROOT / "requirements.txt"
CDK_JSON = REPO_ROOT / "cdk.json"

# Bytecode from the machine that synthesizes is useless in Lambda and would change asset hashes.
CODE_EXCLUDES = ["__pycache__", "*.pyc"]
