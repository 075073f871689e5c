"""OrderRepo on PostgreSQL through the order_repo -> pg_conn -> postgres_server fixture chain."""

import pytest

from shop.orders.models import InvalidTransition, Order, OrderLine

LINES = [OrderLine("LMP-0001", 2, 2500), OrderLine("MUG-0001", 1, 900)]


class TestOrderRepo:
    def test_create(self, order_repo):
        order_id = order_repo.create(Order("ann@example.com", list(LINES)))
        assert order_id == 1

    def test_roundtrip(self, order_repo):
        order_id = order_repo.create(Order("ann@example.com", list(LINES)))
        loaded = order_repo.get(order_id)
        assert loaded.lines == sorted(LINES, key=lambda line: line.sku)
        assert loaded.status == "pending"

    def test_get_missing(self, order_repo):
        assert order_repo.get(42) is None

    @pytest.mark.parametrize(("region", "total"), [(None, 7080), ("DE", 7021), ("US-OR", 5900)])
    def test_total_includes_tax(self, order_repo, region, total):
        order_id = order_repo.create(Order("ann@example.com", list(LINES)), region)
        assert order_repo.total_cents(order_id) == total

    def test_for_customer(self, order_repo):
        first = order_repo.create(Order("ann@example.com", list(LINES)))
        order_repo.create(Order("bob@example.com", list(LINES)))
        second = order_repo.create(Order("ann@example.com", list(LINES)))
        assert order_repo.for_customer("ann@example.com") == [first, second]


class TestStatus:
    def test_allowed_transition(self, order_repo):
        order_id = order_repo.create(Order("ann@example.com", list(LINES)))
        order_repo.set_status(order_id, "paid")
        assert order_repo.get(order_id).status == "paid"

    def test_forbidden_transition(self, order_repo):
        order_id = order_repo.create(Order("ann@example.com", list(LINES)))
        with pytest.raises(InvalidTransition):
            order_repo.set_status(order_id, "shipped")
        assert order_repo.get(order_id).status == "pending"

    def test_missing_order(self, order_repo):
        with pytest.raises(KeyError):
            order_repo.set_status(99, "paid")

    def test_count_by_status(self, order_repo):
        for _ in range(3):
            order_repo.create(Order("ann@example.com", list(LINES)))
        order_repo.set_status(1, "cancelled")
        assert order_repo.count_by_status() == {"pending": 2, "cancelled": 1}
