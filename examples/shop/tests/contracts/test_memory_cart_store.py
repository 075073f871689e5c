"""The cart store contract on the in-memory store (no service)."""

import pytest

from shop.cart import MemoryCartStore

from .base_storage import CartStoreContract


class TestMemoryCartStore(CartStoreContract):
    @pytest.fixture
    def store(self):
        return MemoryCartStore()
