"""The cart store contract on memcached, through the `memcached_client` fixture of the pytest_plugins module."""

import pytest

from shop.cache import MemcachedCache
from shop.cart import CacheCartStore
from tests.contracts import base_storage


class TestMemcachedCartStore(base_storage.CartStoreContract):
    @pytest.fixture
    def store(self, memcached_client):
        return CacheCartStore(MemcachedCache(memcached_client))
