"""Choosing the cache backend: the service a test talks to is picked by a settings override at run time."""

import pytest

from shop.cache import MemoryCache, get_cache
from shop.settings import override_settings


@pytest.fixture(autouse=True)
def _empty_memory_cache():
    MemoryCache().clear()


def test_memory_backend_by_default():
    cache = get_cache()
    cache.set("greeting", {"text": "hello"})
    assert cache.backend == "memory"
    assert cache.get("greeting") == {"text": "hello"}


def test_memory_ttl_expiry():
    cache = get_cache()
    cache.set("short", 1, ttl=-1)
    assert cache.get("short", "gone") == "gone"


def test_redis_backend_override():
    with override_settings(CACHE_BACKEND="redis"):
        cache = get_cache()
        cache.clear()
        cache.set("greeting", "hello", ttl=60)
        assert cache.backend == "redis"
        assert cache.get("greeting") == "hello"


@override_settings(CACHE_BACKEND="memcached")
def test_memcached_backend_decorator():
    cache = get_cache()
    cache.set("n", 41)
    cache.set("n", cache.get("n") + 1)
    assert (cache.backend, cache.get("n")) == ("memcached", 42)


def test_backend_from_settings_fixture(settings):
    settings.CACHE_BACKEND = "redis"
    cache = get_cache()
    assert cache.get_or_set("answer", lambda: 42) == 42
    assert cache.get("answer") == 42
    cache.delete("answer")


@pytest.mark.parametrize("backend", ["memory", "redis", "memcached"])
def test_every_backend_roundtrip(backend):
    with override_settings(CACHE_BACKEND=backend):
        cache = get_cache()
        cache.set("list", [1, 2, 3])
        assert cache.get("list") == [1, 2, 3]
        cache.delete("list")
        assert cache.get("list") is None


def test_unknown_backend():
    with override_settings(CACHE_BACKEND="disk"), pytest.raises(ValueError, match="CACHE_BACKEND"):
        get_cache()
