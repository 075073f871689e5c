"""Caching: an in-memory, a Redis and a memcached backend behind one interface, chosen by settings."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pylibmc
import redis

from shop.settings import CACHE_BACKENDS, settings

_MEMORY: dict[str, tuple[float | None, str]] = {}
_MEMORY_LOCK = threading.Lock()


def get_redis() -> redis.Redis:
    """A client for REDIS_URL."""
    return redis.Redis.from_url(settings.require("REDIS_URL"), decode_responses=True)


def memcached_servers() -> list[str]:
    servers = settings.require("MEMCACHED_SERVERS")
    if isinstance(servers, str):
        servers = [s.strip() for s in servers.split(",") if s.strip()]
    return list(servers)


def get_memcached() -> pylibmc.Client:
    """A client for MEMCACHED_SERVERS."""
    return pylibmc.Client(memcached_servers(), binary=True, behaviors={"tcp_nodelay": True})


class Cache:
    """Values are JSON-encoded; `ttl` is in seconds (None: forever)."""

    backend = "base"

    def get(self, key: str, default: Any = None) -> Any:
        raw = self._get(key)
        return default if raw is None else json.loads(raw)

    def set(self, key: str, value: Any, ttl: int | None = None) -> None:
        self._set(key, json.dumps(value), ttl)

    def get_or_set(self, key: str, factory: Any, ttl: int | None = None) -> Any:
        raw = self._get(key)
        if raw is not None:
            return json.loads(raw)
        value = factory()
        self.set(key, value, ttl)
        return value

    def _get(self, key: str) -> str | None:
        raise NotImplementedError

    def _set(self, key: str, raw: str, ttl: int | None) -> None:
        raise NotImplementedError

    def delete(self, key: str) -> None:
        raise NotImplementedError

    def clear(self) -> None:
        raise NotImplementedError


class MemoryCache(Cache):
    backend = "memory"

    def _get(self, key: str) -> str | None:
        with _MEMORY_LOCK:
            entry = _MEMORY.get(key)
            if entry is None:
                return None
            expires, raw = entry
            if expires is not None and expires <= time.monotonic():
                del _MEMORY[key]
                return None
            return raw

    def _set(self, key: str, raw: str, ttl: int | None) -> None:
        with _MEMORY_LOCK:
            _MEMORY[key] = (None if ttl is None else time.monotonic() + ttl, raw)

    def delete(self, key: str) -> None:
        with _MEMORY_LOCK:
            _MEMORY.pop(key, None)

    def clear(self) -> None:
        with _MEMORY_LOCK:
            _MEMORY.clear()


class RedisCache(Cache):
    backend = "redis"

    def __init__(self, client: redis.Redis, prefix: str = "cache:") -> None:
        self.client = client
        self.prefix = prefix

    def _get(self, key: str) -> str | None:
        return self.client.get(self.prefix + key)

    def _set(self, key: str, raw: str, ttl: int | None) -> None:
        self.client.set(self.prefix + key, raw, ex=ttl)

    def delete(self, key: str) -> None:
        self.client.delete(self.prefix + key)

    def clear(self) -> None:
        keys = list(self.client.scan_iter(self.prefix + "*"))
        if keys:
            self.client.delete(*keys)


class MemcachedCache(Cache):
    backend = "memcached"

    def __init__(self, client: pylibmc.Client) -> None:
        self.client = client

    def _get(self, key: str) -> str | None:
        return self.client.get(key)

    def _set(self, key: str, raw: str, ttl: int | None) -> None:
        self.client.set(key, raw, time=ttl or 0)

    def delete(self, key: str) -> None:
        self.client.delete(key)

    def clear(self) -> None:
        self.client.flush_all()


def get_cache() -> Cache:
    """The cache selected by settings.CACHE_BACKEND."""
    backend = settings.CACHE_BACKEND
    if backend == "memory":
        return MemoryCache()
    if backend == "redis":
        return RedisCache(get_redis())
    if backend == "memcached":
        return MemcachedCache(get_memcached())
    raise ValueError(f"CACHE_BACKEND must be one of {CACHE_BACKENDS}, not {backend!r}")
