"""Order fixtures, built on tests/conftest.py's pg_conn and redis_client."""

import pytest

from shop.events import RedisEventBus
from shop.inventory import InventoryRepo
from shop.orders.repo import OrderRepo
from shop.orders.service import OrderService


@pytest.fixture
def order_repo(pg_conn):
    return OrderRepo(pg_conn)


@pytest.fixture
def inventory(pg_conn):
    repo = InventoryRepo(pg_conn)
    repo.set_stock("LMP-0001", 5)
    repo.set_stock("MUG-0001", 20)
    return repo


@pytest.fixture
def event_bus(redis_client):
    return RedisEventBus(redis_client)


@pytest.fixture
def order_service(order_repo, inventory, event_bus):
    return OrderService(order_repo, inventory, event_bus)
