"""Order totals and the status state machine: in the orders directory, but pure logic."""

import pytest

from shop.orders.models import InvalidTransition, Order, OrderLine, check_transition, is_final


@pytest.mark.parametrize(
    ("current", "new"),
    [
        ("pending", "paid"),
        ("pending", "cancelled"),
        ("paid", "shipped"),
        ("shipped", "delivered"),
        ("delivered", "returned"),
        ("returned", "refunded"),
    ],
)
def test_allowed(current, new):
    check_transition(current, new)


@pytest.mark.parametrize(("current", "new"), [("pending", "shipped"), ("cancelled", "paid"), ("refunded", "paid")])
def test_forbidden(current, new):
    with pytest.raises(InvalidTransition):
        check_transition(current, new)


def test_unknown_status():
    with pytest.raises(InvalidTransition, match="unknown status"):
        check_transition("lost", "paid")


@pytest.mark.parametrize(("status", "final"), [("cancelled", True), ("refunded", True), ("paid", False)])
def test_is_final(status, final):
    assert is_final(status) is final


class TestOrderTotals:
    def test_line_total_uses_bulk_tier(self):
        assert OrderLine("MUG-0001", 10, 100).total == 950

    def test_subtotal(self):
        assert Order("a@example.com", [OrderLine("A", 1, 100), OrderLine("B", 2, 50)]).subtotal == 200

    def test_total_with_region_tax(self):
        assert Order("a@example.com", [OrderLine("A", 1, 1000)]).total("LU") == 1170
