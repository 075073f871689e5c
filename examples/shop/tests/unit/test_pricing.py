"""Discounts, bulk tiers and line totals (pure logic)."""

import pytest

from shop.pricing import PricingError, apply_discount, line_total, subtotal, tier_discount


@pytest.mark.parametrize(
    ("cents", "percent", "expected"),
    [(1000, 10, 900), (999, 10, 899), (1, 50, 1), (0, 30, 0), (1000, 0, 1000), (1000, 100, 0), (333, "12.5", 291)],
)
def test_discount(cents, percent, expected):
    assert apply_discount(cents, percent) == expected


@pytest.mark.parametrize("percent", [-1, 101, 250])
def test_discount_out_of_range(percent):
    with pytest.raises(PricingError):
        apply_discount(1000, percent)


def test_negative_price_rejected():
    with pytest.raises(PricingError):
        apply_discount(-5, 10)


@pytest.mark.parametrize(("quantity", "percent"), [(1, 0), (9, 0), (10, 5), (49, 5), (50, 10), (100, 15), (5000, 15)])
def test_tier_discount(quantity, percent):
    assert tier_discount(quantity) == percent


def test_custom_tiers():
    assert tier_discount(3, tiers=((2, 20), (3, 30))) == 30


def test_line_total_applies_tier():
    assert line_total(100, 10) == 950


def test_line_total_rejects_zero_quantity():
    with pytest.raises(PricingError):
        line_total(100, 0)


class TestSubtotal:
    def test_empty(self):
        assert subtotal([]) == 0

    def test_mixed_lines(self):
        assert subtotal([(250, 2), (100, 10)]) == 500 + 950
