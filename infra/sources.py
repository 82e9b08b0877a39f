"""Where the code that the stacks deploy lives in this repository."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = REPO_ROOT / "functions"
CORE_LAYER_DIR = REPO_ROOT / "layers" / "core"
REQUIREMENTS_FILE = REPO_ROOT / "requirements.txt"
CDK_JSON = REPO_ROOT / "cdk.json"

# The synthesizing machine's own bytecode: never shipped (infra/bundling.py compiles for Lambda).
CODE_EXCLUDES = ["__pycache__", "*.pyc"]
