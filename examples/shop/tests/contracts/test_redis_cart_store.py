"""The cart store contract on Redis: the class's `store` fixture requests the renamed `redis_client` fixture."""

import pytest

from shop.cart import RedisCartStore
from tests.contracts.base_storage import CartStoreContract, sample_cart


class TestRedisCartStore(CartStoreContract):
    @pytest.fixture
    def store(self, redis_client):
        return RedisCartStore(redis_client, ttl=600)

    def test_cart_expires(self, store):
        store.save("c-1", sample_cart())
        assert 0 < store.client.ttl("cart:c-1") <= 600
