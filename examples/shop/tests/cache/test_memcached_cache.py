"""The memcached backend: a fixture from the `pytest_plugins` module, and a class marked @pytest.mark.memcached."""

import pytest

from shop.cache import MemcachedCache, get_memcached
from shop.cart import CacheCartStore, Cart


@pytest.fixture
def cache(memcached_client):
    return MemcachedCache(memcached_client)


def test_set_get(cache):
    cache.set("k", {"a": 1})
    assert cache.get("k") == {"a": 1}


def test_missing_default(cache):
    assert cache.get("nope", default="d") == "d"


def test_delete(cache):
    cache.set("k", 1)
    cache.delete("k")
    assert cache.get("k") is None


def test_get_or_set_calls_factory_once(cache):
    calls = []
    for _ in range(3):
        cache.get_or_set("k", lambda: calls.append(1) or len(calls))
    assert calls == [1]


@pytest.mark.parametrize("value", [0, "", [], {"nested": [1, {"x": None}]}])
def test_json_values(cache, value):
    cache.set("v", value)
    assert cache.get("v", default="missing") == value


@pytest.mark.memcached
class TestRawClient:
    def test_incr(self):
        client = get_memcached()
        client.flush_all()
        client.set("hits", 1)
        client.incr("hits", 2)
        assert client.get("hits") == 3

    def test_cart_store_on_memcached(self):
        store = CacheCartStore(MemcachedCache(get_memcached()))
        cart = Cart()
        cart.add("LMP-0001", 2500, 2)
        store.save("c-1", cart)
        assert store.load("c-1").items == {"LMP-0001": 2}
