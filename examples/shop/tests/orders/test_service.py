"""Checkout: PostgreSQL (orders, stock) and Redis (order events) through the order_service fixture."""

import pytest

from shop.cart import Cart
from shop.inventory import OutOfStock


def make_cart(**quantities):
    cart = Cart()
    prices = {"LMP-0001": 2500, "MUG-0001": 900, "BOK-0001": 3900}
    for sku, qty in quantities.items():
        sku = sku.replace("_", "-")
        cart.add(sku, prices[sku], qty)
    return cart


def test_place_order_reserves_stock(order_service, inventory):
    order_service.place_order("ann@example.com", make_cart(LMP_0001=2))
    assert inventory.available("LMP-0001") == 3


def test_place_order_publishes_event(order_service, event_bus):
    order_id = order_service.place_order("Ann@Example.com", make_cart(MUG_0001=1))
    (event,) = event_bus.drain()
    assert event == {"kind": "order_placed", "order_id": order_id, "email": "Ann@example.com", "total": 1080}


def test_out_of_stock_rolls_back(order_service, inventory, order_repo):
    with pytest.raises(OutOfStock):
        order_service.place_order("ann@example.com", make_cart(LMP_0001=1, MUG_0001=21))
    assert inventory.available("LMP-0001") == 5
    assert order_repo.for_customer("ann@example.com") == []


def test_unknown_sku_is_out_of_stock(order_service):
    with pytest.raises(OutOfStock):
        order_service.place_order("ann@example.com", make_cart(BOK_0001=1))


def test_empty_cart(order_service):
    with pytest.raises(ValueError, match="empty cart"):
        order_service.place_order("ann@example.com", Cart())


def test_cancel_releases_stock(order_service, inventory, event_bus):
    order_id = order_service.place_order("ann@example.com", make_cart(LMP_0001=5))
    order_service.cancel(order_id)
    assert inventory.available("LMP-0001") == 5
    assert [e["kind"] for e in event_bus.drain()] == ["order_placed", "order_cancelled"]
