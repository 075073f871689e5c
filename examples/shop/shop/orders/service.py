"""Checkout: reserve stock, record the order and announce it, all or nothing."""

from __future__ import annotations

from typing import Any, Protocol

from shop.cart import Cart
from shop.inventory import InventoryRepo
from shop.orders.models import Order, OrderLine
from shop.orders.repo import OrderRepo
from shop.validation import normalize_email


class EventBus(Protocol):
    def publish(self, kind: str, **payload: Any) -> None: ...


class OrderService:
    def __init__(self, orders: OrderRepo, inventory: InventoryRepo, events: EventBus) -> None:
        self.orders = orders
        self.inventory = inventory
        self.events = events

    def place_order(self, email: str, cart: Cart, region: str | None = None) -> int:
        if not cart.items:
            raise ValueError("empty cart")
        email = normalize_email(email)
        conn = self.orders.conn
        try:
            for sku, qty in sorted(cart.items.items()):
                self.inventory.reserve(sku, qty, commit=False)
            order = Order(
                customer_email=email,
                lines=[OrderLine(sku, qty, cart.prices[sku]) for sku, qty in sorted(cart.items.items())],
            )
            order_id = self.orders.create(order, region, commit=False)
            conn.commit()
        except Exception:
            conn.rollback()
            raise
        self.events.publish("order_placed", order_id=order_id, email=email, total=order.total(region))
        return order_id

    def cancel(self, order_id: int) -> None:
        order = self.orders.get(order_id)
        if order is None:
            raise KeyError(order_id)
        self.orders.set_status(order_id, "cancelled")
        for line in order.lines:
            self.inventory.release(line.sku, line.quantity)
        self.events.publish("order_cancelled", order_id=order_id)
