"""The layer's dependencies point downwards: the HTTP edge (and the registry, the aggregate of the
services' declarations) over the services, the services over the events ring and the adapters,
everything over the base (`config`, `errors`, `declarations`). No module imports upwards, the
services import each other without a cycle, and a service's `__init__` imports nothing, so that
reading the registry loads no handler, no pydantic and no boto3."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from tests.conftest import REPO

LAYER = REPO / "layers" / "core" / "python"
SERVICES = (
    "auth", "marketplace", "bookings", "payments", "tracking", "messages", "care", "notifications", "operations",
)  # fmt: skip
RANK = {
    "config": 0, "errors": 0, "declarations": 0,
    "adapters": 1,
    "events": 2,
    **dict.fromkeys(SERVICES, 3),
    "edge": 4, "registry": 4,
}  # fmt: skip


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted((LAYER / "dogwalk").rglob("*.py")):
        dotted = ".".join(path.relative_to(LAYER).with_suffix("").parts)
        found[dotted.removesuffix(".__init__")] = path
    return found


def imports_of(path: Path, known: set[str]) -> set[str]:
    """Every dogwalk module `path` imports, at its top or inside a function, resolved to a module."""
    imported: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names if alias.name.startswith("dogwalk")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("dogwalk"):
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                imported.add(candidate if candidate in known else node.module)
    return imported - {"dogwalk"}


def ring(module: str) -> str:
    return module.split(".")[1]


GRAPH = {name: imports_of(path, set(modules())) for name, path in modules().items()}


def test_the_graph_is_read_from_the_code() -> None:
    # top-level and function-level imports alike (the edge imports idempotency where it needs it)
    assert {"dogwalk.payments.gateway", "dogwalk.payments.ledger"} <= GRAPH["dogwalk.bookings.lifecycle"]
    assert "dogwalk.edge.idempotency" in GRAPH["dogwalk.edge.api"]


def test_every_module_of_the_layer_is_in_a_ring() -> None:
    assert [name for name in GRAPH if name != "dogwalk" and ring(name) not in RANK] == []


def test_no_module_imports_upwards() -> None:
    upward = [
        f"{importer} → {imported}"
        for importer, targets in GRAPH.items()
        if importer != "dogwalk"
        for imported in targets
        if RANK[ring(imported)] > RANK[ring(importer)]
    ]

    assert upward == []


def test_the_services_depend_on_each_other_without_a_cycle() -> None:
    between: dict[str, set[str]] = defaultdict(set)
    for importer, targets in GRAPH.items():
        for imported in targets:
            if ring(importer) in SERVICES and ring(imported) in SERVICES and ring(importer) != ring(imported):
                between[ring(importer)].add(ring(imported))
    assert find_cycle(between) == []


def test_no_module_cycle() -> None:
    assert find_cycle(GRAPH) == []


def test_the_declarations_of_a_service_import_only_the_declaration_types() -> None:
    for service in SERVICES:
        assert GRAPH[f"dogwalk.{service}.registry"] <= {"dogwalk.declarations"}, service


@pytest.mark.parametrize("package", [name for name in RANK if (LAYER / "dogwalk" / name).is_dir()])
def test_a_package_init_imports_nothing(package: str) -> None:
    tree = ast.parse((LAYER / "dogwalk" / package / "__init__.py").read_text())

    assert [node for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)] == []


def test_reading_the_registry_loads_no_handler_pydantic_or_boto3() -> None:
    probe = (
        "import sys; from dogwalk import registry; registry.functions(); "
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    loaded = subprocess.run(  # noqa: S603 - our own interpreter and probe
        [sys.executable, "-c", f"import json; {probe}"], capture_output=True, text=True, check=True, cwd=REPO
    )
    top_level = set(json.loads(loaded.stdout))

    assert top_level.isdisjoint({"pydantic", "boto3", "botocore", "aws_lambda_powertools", "psycopg", "redis"})
    assert top_level.isdisjoint(SERVICES)  # the handler packages of functions/ stay unloaded


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One cycle of `graph` as the path around it, or [] when it has none."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return [*stack[stack.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        stack.pop()
        state[node] = 2
        return []

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return []


def test_the_cycle_finder_finds_a_planted_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) == []
