"""Root conftest: lazily started servers (session fixtures, markers, settings providers), the `settings` fixture."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from shop.settings import DEFAULTS, SERVICE_SETTINGS, settings, settings_layer
from shop.testing import servers

pytest_plugins = ["shop.testing.fixtures"]

SERVICE_MARKERS = ("postgres", "redis", "memcached", "search")


def pytest_configure(config: pytest.Config) -> None:
    # Never reach a server this session did not start (e.g. the machine's own on 5432/6379/11211).
    for name in SERVICE_SETTINGS:
        os.environ.pop("SHOP_" + name, None)
    # Application code that reads a service address nobody published starts that server on first use.
    for service, setting in servers.PUBLISHED_AS.items():
        settings.register_provider(setting, lambda service=service: servers.ensure(service).url)


def pytest_sessionfinish(session: pytest.Session) -> None:
    servers.registry.stop_all()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """@pytest.mark.<service> starts the service before the test."""
    for name in SERVICE_MARKERS:
        if item.get_closest_marker(name) is not None:
            servers.ensure(name)


def _server(name: str) -> Iterator[servers.Server]:
    yield servers.ensure(name)
    servers.registry.stop(name)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[servers.Server]:
    yield from _server("postgres")


@pytest.fixture(scope="session")
def redis_server() -> Iterator[servers.Server]:
    yield from _server("redis")


@pytest.fixture(scope="session")
def memcached_server() -> Iterator[servers.Server]:
    yield from _server("memcached")


@pytest.fixture(scope="session")
def search_server() -> Iterator[servers.Server]:
    yield from _server("search")


class SettingsOverride:
    """Attribute assignments override settings until the end of the test."""

    def __init__(self, layer: dict[str, Any]) -> None:
        object.__setattr__(self, "_layer", layer)

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in DEFAULTS:
            raise AttributeError(f"unknown setting {name}")
        self._layer[name] = value

    def __getattr__(self, name: str) -> Any:
        return getattr(settings, name)


@pytest.fixture(name="settings")
def settings_fixture() -> Iterator[SettingsOverride]:
    with settings_layer() as layer:
        yield SettingsOverride(layer)
