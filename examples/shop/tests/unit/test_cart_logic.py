"""The in-memory cart: adding, removing, totals (pure logic)."""

import datetime as dt

import pytest

from shop.cart import Cart
from shop.coupons import parse_coupon
from shop.validation import ValidationError


@pytest.fixture
def cart():
    cart = Cart()
    cart.add("ABC-0001", 1500, 2)
    cart.add("ABC-0002", 400)
    return cart


def test_count(cart):
    assert cart.count == 3


def test_adding_again_accumulates(cart):
    cart.add("ABC-0002", 400, 4)
    assert cart.items["ABC-0002"] == 5


def test_remove_some(cart):
    cart.remove("ABC-0001", 1)
    assert cart.items == {"ABC-0001": 1, "ABC-0002": 1}


def test_remove_all(cart):
    cart.remove("ABC-0001")
    assert "ABC-0001" not in cart.items and "ABC-0001" not in cart.prices


def test_remove_unknown(cart):
    with pytest.raises(KeyError):
        cart.remove("ZZZ-9999")


@pytest.mark.parametrize("quantity", [0, -3])
def test_add_rejects_non_positive(quantity):
    with pytest.raises(ValidationError):
        Cart().add("ABC-0001", 100, quantity)


def test_add_rejects_too_many():
    cart = Cart()
    cart.add("ABC-0001", 100, 999)
    with pytest.raises(ValidationError):
        cart.add("ABC-0001", 100)


class TestTotals:
    def test_subtotal(self, cart):
        assert cart.subtotal() == 3400

    def test_total_with_shipping(self, cart):
        assert cart.total() == 3400 + 490

    def test_total_with_coupon(self, cart):
        assert cart.total(parse_coupon("FREESHIP"), dt.date(2024, 1, 1)) == 3400
