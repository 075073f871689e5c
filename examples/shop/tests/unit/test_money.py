"""Parsing, rounding and formatting of amounts (pure logic)."""

from decimal import Decimal

import pytest

from shop.money import format_price, round_cents, to_cents


@pytest.mark.parametrize(("text", "cents"), [("12.34", 1234), ("0.005", 1), ("7", 700), ("-1.50", -150)])
def test_to_cents(text, cents):
    assert to_cents(text) == cents


def test_round_cents_half_up():
    assert round_cents(Decimal("2.5")) == 3


@pytest.mark.parametrize(
    ("cents", "currency", "text"),
    [
        (1234, "EUR", "€12.34"),
        (5, "USD", "$0.05"),
        (123456789, "GBP", "£1,234,567.89"),
        (-250, "EUR", "-€2.50"),
        (100, "CHF", "CHF 1.00"),
    ],
)
def test_format_price(cents, currency, text):
    assert format_price(cents, currency) == text
