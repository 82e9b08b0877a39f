"""Settings come from the environment, typed, with a clear error for a bad value."""

from __future__ import annotations

import pytest

from dogwalk.config import environment_names, settings


@pytest.fixture(autouse=True)
def fresh_settings():
    settings.cache_clear()
    yield
    settings.cache_clear()


def test_without_environment_the_defaults_are_the_local_platforms(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in environment_names().values():
        monkeypatch.delenv(variable, raising=False)

    local = settings()

    # the embedded servers `make run` starts, and the limits API.md promises
    assert (local.stage, local.database_url, local.redis_url) == (
        "local",
        "postgresql://dogwalk@127.0.0.1:54329/dogwalk",
        "redis://127.0.0.1:63799/0",
    )
    assert (local.access_token_ttl_s, local.max_body_bytes, local.dependency_timeout_s) == (900, 256 * 1024, 3.0)
    assert (local.admin_email, local.admin_password, local.stripe_api_base, local.events_topic_arn) == ("", "", "", "")


def test_the_admin_password_is_kept_out_of_the_settings_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOGWALK_ADMIN_EMAIL", "ops@dogwalk.example")
    monkeypatch.setenv("DOGWALK_ADMIN_PASSWORD", "operator passphrase 2026")

    assert settings().admin_password == "operator passphrase 2026"
    assert "operator passphrase" not in repr(settings())


def test_values_are_read_and_typed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOGWALK_DEPENDENCY_TIMEOUT_S", "0.5")
    monkeypatch.setenv("DOGWALK_ACCESS_TOKEN_TTL_S", "600")
    monkeypatch.setenv("DOGWALK_STAGE", "prod")

    assert (settings().dependency_timeout_s, settings().access_token_ttl_s, settings().stage) == (0.5, 600, "prod")


@pytest.mark.parametrize(
    ("variable", "value"), [("DOGWALK_ACCESS_TOKEN_TTL_S", "soon"), ("DOGWALK_DEPENDENCY_TIMEOUT_S", "-1")]
)
def test_a_bad_value_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, variable: str, value: str) -> None:
    monkeypatch.setenv(variable, value)

    with pytest.raises(ValueError):
        settings()


def test_the_example_environment_names_every_setting() -> None:
    from tests.conftest import REPO

    example = (REPO / ".env.example").read_text()

    assert [name for name in environment_names().values() if f"\n{name}=" not in example] == []
