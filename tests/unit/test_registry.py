"""The route registry is the one declaration: every entry has its handler module, names and
routes are unique, and each handler serves exactly the route its entry declares."""

from __future__ import annotations

import importlib

import pytest

from dogwalk import registry
from tests.conftest import REPO


def test_function_names_are_unique() -> None:
    names = [function.name for function in registry.functions()]

    assert len(names) == len(set(names))


def test_routes_are_unique() -> None:
    routes = [(endpoint.method, endpoint.path) for endpoint in registry.ENDPOINTS]

    assert len(routes) == len(set(routes))


@pytest.mark.parametrize("function", registry.functions(), ids=lambda f: f.name)
def test_every_function_has_a_handler_module(function: registry.Function) -> None:
    assert (REPO / "functions" / function.service / f"{function.name}.py").exists()
    module = importlib.import_module(function.module)
    assert callable(module.lambda_handler)


@pytest.mark.parametrize("endpoint", registry.ENDPOINTS, ids=lambda e: e.name)
def test_each_handler_serves_the_route_of_its_entry(endpoint: registry.Endpoint) -> None:
    module = importlib.import_module(endpoint.module)

    assert module.route.declaration is endpoint
    assert endpoint.path.startswith("/")
    assert endpoint.method in {"GET", "POST", "PUT", "PATCH", "DELETE"}


def test_every_handler_module_is_registered() -> None:
    modules = {
        f"{path.parent.name}.{path.stem}" for path in (REPO / "functions").glob("*/*.py") if path.stem != "__init__"
    }

    assert modules == {function.module for function in registry.functions()}
    assert not list((REPO / "functions").glob("*.py")), "every handler lives in its service folder"


def test_schedules_need_minute_resolution() -> None:
    with pytest.raises(ValueError, match="minute resolution"):
        _ = registry.Schedule(name="x", every_s=90).expression
