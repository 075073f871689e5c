"""Stock levels: a module-level `pytestmark` (one marker) is the only sign that PostgreSQL is needed."""

import pytest

from shop import db
from shop.inventory import InventoryRepo, OutOfStock

pytestmark = pytest.mark.postgres


@pytest.fixture
def repo():
    conn = db.prepare(db.connect())
    yield InventoryRepo(conn)
    conn.close()


def test_unknown_sku_has_nothing(repo):
    assert repo.levels("LMP-0001") == (0, 0)


@pytest.mark.parametrize("quantity", [0, 1, 250])
def test_set_stock(repo, quantity):
    repo.set_stock("LMP-0001", quantity)
    assert repo.available("LMP-0001") == quantity


def test_set_stock_overwrites(repo):
    repo.set_stock("LMP-0001", 3)
    repo.set_stock("LMP-0001", 8)
    assert repo.levels("LMP-0001") == (8, 0)


def test_reserve(repo):
    repo.set_stock("LMP-0001", 3)
    repo.reserve("LMP-0001", 2)
    assert repo.levels("LMP-0001") == (3, 2)
    assert repo.available("LMP-0001") == 1


def test_reserve_too_many(repo):
    repo.set_stock("LMP-0001", 3)
    with pytest.raises(OutOfStock):
        repo.reserve("LMP-0001", 4)


def test_release(repo):
    repo.set_stock("LMP-0001", 3)
    repo.reserve("LMP-0001", 3)
    repo.release("LMP-0001", 2)
    assert repo.available("LMP-0001") == 2


def test_ship(repo):
    repo.set_stock("LMP-0001", 3)
    repo.reserve("LMP-0001", 2)
    repo.ship("LMP-0001", 2)
    assert repo.levels("LMP-0001") == (1, 0)


def test_ship_unreserved(repo):
    repo.set_stock("LMP-0001", 3)
    with pytest.raises(OutOfStock):
        repo.ship("LMP-0001", 1)
