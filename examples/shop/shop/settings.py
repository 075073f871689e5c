"""Application settings: defaults, SHOP_* environment variables, overrides and lazy providers."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any, Callable

DEFAULTS: dict[str, Any] = {
    "DATABASE_URL": None,
    "CACHE_BACKEND": "memory",
    "REDIS_URL": None,
    "MEMCACHED_SERVERS": None,
    "SEARCH_URL": None,
    "CURRENCY": "EUR",
    "TAX_RATE": "0.20",
    "SESSION_TTL": 3600,
    "SECRET_KEY": "not-a-secret",
    "RATE_LIMIT": 5,
}

# Settings that hold the address of an external service.
SERVICE_SETTINGS = ("DATABASE_URL", "REDIS_URL", "MEMCACHED_SERVERS", "SEARCH_URL")

CACHE_BACKENDS = ("memory", "redis", "memcached")


class ImproperlyConfigured(RuntimeError):
    """A setting needed at run time has no value."""


def _coerce(raw: str, default: Any) -> Any:
    if isinstance(default, int):
        return int(raw)
    return raw


class Settings:
    """Looks a name up in the override stack, then SHOP_<NAME>, then a provider, then the default."""

    def __init__(self) -> None:
        object.__setattr__(self, "_layers", [])
        object.__setattr__(self, "_providers", {})

    def __getattr__(self, name: str) -> Any:
        if name not in DEFAULTS:
            raise AttributeError(name)
        for layer in reversed(self._layers):
            if name in layer:
                return layer[name]
        raw = os.environ.get("SHOP_" + name)
        if raw is not None:
            return _coerce(raw, DEFAULTS[name])
        provider = self._providers.get(name)
        if provider is not None:
            return provider()
        return DEFAULTS[name]

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("settings are read-only; use override_settings()")

    def require(self, name: str) -> Any:
        """Return a setting that must be configured, or raise ImproperlyConfigured."""
        value = getattr(self, name)
        if value in (None, ""):
            raise ImproperlyConfigured(f"{name} is not configured (set SHOP_{name})")
        return value

    def register_provider(self, name: str, provider: Callable[[], Any]) -> None:
        """Compute `name` on first use when nothing else configures it (the test harness uses this)."""
        if name not in DEFAULTS:
            raise KeyError(name)
        self._providers[name] = provider

    def clear_providers(self) -> None:
        self._providers.clear()

    def push(self, values: dict[str, Any]) -> dict[str, Any]:
        unknown = set(values) - set(DEFAULTS)
        if unknown:
            raise KeyError(f"unknown settings: {sorted(unknown)}")
        layer = dict(values)
        self._layers.append(layer)
        return layer

    def pop(self, layer: dict[str, Any]) -> None:
        self._layers.remove(layer)


settings = Settings()


class override_settings(contextlib.ContextDecorator):
    """Temporarily override settings, as a context manager or a decorator."""

    def __init__(self, **values: Any) -> None:
        self.values = values
        self._layer: dict[str, Any] | None = None

    def __enter__(self) -> Settings:
        self._layer = settings.push(self.values)
        return settings

    def __exit__(self, *exc: object) -> None:
        assert self._layer is not None
        settings.pop(self._layer)
        self._layer = None


@contextlib.contextmanager
def settings_layer() -> Iterator[dict[str, Any]]:
    """Yield a mutable override layer that is removed on exit."""
    layer = settings.push({})
    try:
        yield layer
    finally:
        settings.pop(layer)
