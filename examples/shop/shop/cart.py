"""Shopping carts: the cart itself (pure) and where carts are stored (memory, Redis, any cache)."""

from __future__ import annotations

from dataclasses import dataclass, field

import redis

from shop.cache import Cache
from shop.coupons import Coupon, apply_coupon, shipping_cost
from shop.pricing import line_total
from shop.validation import MAX_QUANTITY, ValidationError


@dataclass
class Cart:
    """Quantities and unit prices by SKU."""

    items: dict[str, int] = field(default_factory=dict)
    prices: dict[str, int] = field(default_factory=dict)

    def add(self, sku: str, unit_cents: int, quantity: int = 1) -> None:
        if quantity <= 0:
            raise ValidationError("quantity must be positive")
        new = self.items.get(sku, 0) + quantity
        if new > MAX_QUANTITY:
            raise ValidationError(f"at most {MAX_QUANTITY} of {sku}")
        self.items[sku] = new
        self.prices[sku] = unit_cents

    def remove(self, sku: str, quantity: int | None = None) -> None:
        if sku not in self.items:
            raise KeyError(sku)
        if quantity is None or quantity >= self.items[sku]:
            del self.items[sku]
            del self.prices[sku]
        else:
            self.items[sku] -= quantity

    @property
    def count(self) -> int:
        return sum(self.items.values())

    def subtotal(self) -> int:
        return sum(line_total(self.prices[sku], qty) for sku, qty in self.items.items())

    def total(self, coupon: Coupon | None = None, today=None) -> int:
        sub = self.subtotal()
        if coupon is not None:
            sub = apply_coupon(sub, coupon, today)
        return sub + shipping_cost(sub, coupon)


class CartStore:
    """Loads and saves carts by id."""

    def load(self, cart_id: str) -> Cart:
        raise NotImplementedError

    def save(self, cart_id: str, cart: Cart) -> None:
        raise NotImplementedError

    def delete(self, cart_id: str) -> None:
        raise NotImplementedError


class MemoryCartStore(CartStore):
    def __init__(self) -> None:
        self._carts: dict[str, tuple[dict[str, int], dict[str, int]]] = {}

    def load(self, cart_id: str) -> Cart:
        items, prices = self._carts.get(cart_id, ({}, {}))
        return Cart(dict(items), dict(prices))

    def save(self, cart_id: str, cart: Cart) -> None:
        self._carts[cart_id] = (dict(cart.items), dict(cart.prices))

    def delete(self, cart_id: str) -> None:
        self._carts.pop(cart_id, None)


class RedisCartStore(CartStore):
    """A cart is a Redis hash `cart:<id>` of sku -> 'quantity:unit_cents'."""

    def __init__(self, client: redis.Redis, ttl: int = 7 * 86400) -> None:
        self.client = client
        self.ttl = ttl

    def load(self, cart_id: str) -> Cart:
        cart = Cart()
        for sku, value in self.client.hgetall(f"cart:{cart_id}").items():
            qty, price = value.split(":")
            cart.items[sku] = int(qty)
            cart.prices[sku] = int(price)
        return cart

    def save(self, cart_id: str, cart: Cart) -> None:
        key = f"cart:{cart_id}"
        pipe = self.client.pipeline()
        pipe.delete(key)
        if cart.items:
            pipe.hset(key, mapping={sku: f"{qty}:{cart.prices[sku]}" for sku, qty in cart.items.items()})
            pipe.expire(key, self.ttl)
        pipe.execute()

    def delete(self, cart_id: str) -> None:
        self.client.delete(f"cart:{cart_id}")


class CacheCartStore(CartStore):
    """Keeps carts in any Cache (memcached in production)."""

    def __init__(self, cache: Cache) -> None:
        self.cache = cache

    def load(self, cart_id: str) -> Cart:
        data = self.cache.get(f"cart:{cart_id}", {"items": {}, "prices": {}})
        return Cart(dict(data["items"]), dict(data["prices"]))

    def save(self, cart_id: str, cart: Cart) -> None:
        self.cache.set(f"cart:{cart_id}", {"items": cart.items, "prices": cart.prices})

    def delete(self, cart_id: str) -> None:
        self.cache.delete(f"cart:{cart_id}")
