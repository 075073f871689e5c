"""The cart store contract: test methods inherited by one class per backend (this file is not collected)."""

import pytest

from shop.cart import Cart


def sample_cart():
    cart = Cart()
    cart.add("LMP-0001", 2500, 2)
    cart.add("MUG-0001", 900)
    return cart


class CartStoreContract:
    """Subclasses provide a `store` fixture; every test here runs once per subclass."""

    def test_missing_cart_is_empty(self, store):
        assert store.load("nobody").items == {}

    def test_save_and_load(self, store):
        store.save("c-1", sample_cart())
        loaded = store.load("c-1")
        assert loaded.items == {"LMP-0001": 2, "MUG-0001": 1}
        assert loaded.subtotal() == sample_cart().subtotal()

    def test_save_overwrites(self, store):
        store.save("c-1", sample_cart())
        smaller = sample_cart()
        smaller.remove("MUG-0001")
        store.save("c-1", smaller)
        assert store.load("c-1").items == {"LMP-0001": 2}

    def test_delete(self, store):
        store.save("c-1", sample_cart())
        store.delete("c-1")
        assert store.load("c-1").items == {}

    @pytest.mark.parametrize("cart_id", ["c-1", "user:42", "ünïcode"])
    def test_ids_are_independent(self, store, cart_id):
        store.save(cart_id, sample_cart())
        assert store.load(cart_id + "-other").items == {}
        assert store.load(cart_id).count == 3
