"""A whole checkout across four services: search, Redis carts, PostgreSQL orders, memcached reports."""

import pytest

from shop.cache import MemcachedCache
from shop.cart import RedisCartStore
from shop.catalog import Product, ProductRepo, search_document
from shop.events import MemoryEventBus
from shop.inventory import InventoryRepo
from shop.orders.repo import OrderRepo
from shop.orders.service import OrderService
from shop.reports import CachedReports

PRODUCTS = (
    Product("LMP-0001", "Desk lamp", 2500, "lighting"),
    Product("MUG-0001", "Coffee mug", 900, "kitchen"),
)


@pytest.fixture
def shop_world(pg_conn, redis_client, memcached_client, search_client):
    products, inventory = ProductRepo(pg_conn), InventoryRepo(pg_conn)
    for product in PRODUCTS:
        products.add(product)
        inventory.set_stock(product.sku, 10)
        search_client.index_document(product.sku, search_document(product))
    return {
        "products": products,
        "inventory": inventory,
        "carts": RedisCartStore(redis_client),
        "orders": OrderService(OrderRepo(pg_conn), inventory, MemoryEventBus()),
        "reports": CachedReports(pg_conn, MemcachedCache(memcached_client)),
        "search": search_client,
    }


def add_found_product(world, query, quantity):
    (hit,) = world["search"].search(query)
    product = world["products"].get(hit.id)
    cart = world["carts"].load("c-1")
    cart.add(product.sku, product.price_cents, quantity)
    world["carts"].save("c-1", cart)


def test_search_cart_checkout(shop_world):
    add_found_product(shop_world, "lamp", 2)
    add_found_product(shop_world, "mug", 1)
    order_id = shop_world["orders"].place_order("ann@example.com", shop_world["carts"].load("c-1"))
    assert order_id == 1
    assert shop_world["inventory"].available("LMP-0001") == 8


def test_report_is_cached_until_invalidated(shop_world):
    add_found_product(shop_world, "mug", 3)
    shop_world["orders"].place_order("ann@example.com", shop_world["carts"].load("c-1"))
    first = shop_world["reports"].status_csv()
    shop_world["orders"].place_order("bob@example.com", shop_world["carts"].load("c-1"))
    assert shop_world["reports"].status_csv() == first
    shop_world["reports"].invalidate()
    assert "pending,2," in shop_world["reports"].status_csv()


@pytest.mark.slow
def test_cart_survives_between_requests(shop_world):
    add_found_product(shop_world, "lamp", 1)
    assert RedisCartStore(shop_world["carts"].client).load("c-1").count == 1
