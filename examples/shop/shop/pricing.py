"""Pricing rules: percentage discounts, bulk tiers and line totals."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from shop.money import round_cents

# (minimum quantity, percent off)
DEFAULT_TIERS: tuple[tuple[int, int], ...] = ((10, 5), (50, 10), (100, 15))


class PricingError(ValueError):
    """An impossible price, quantity or discount."""


def apply_discount(cents: int, percent: int | Decimal) -> int:
    """Take `percent` off `cents`, rounding half-up."""
    percent = Decimal(str(percent))
    if cents < 0:
        raise PricingError("negative price")
    if not 0 <= percent <= 100:
        raise PricingError(f"discount out of range: {percent}")
    return round_cents(Decimal(cents) * (100 - percent) / 100)


def tier_discount(quantity: int, tiers: Sequence[tuple[int, int]] = DEFAULT_TIERS) -> int:
    """The percent off for buying `quantity` units."""
    best = 0
    for minimum, percent in tiers:
        if quantity >= minimum:
            best = max(best, percent)
    return best


def line_total(unit_cents: int, quantity: int, tiers: Sequence[tuple[int, int]] = DEFAULT_TIERS) -> int:
    """Price of `quantity` units with the bulk tier applied."""
    if quantity <= 0:
        raise PricingError("quantity must be positive")
    return apply_discount(unit_cents * quantity, tier_discount(quantity, tiers))


def subtotal(lines: Sequence[tuple[int, int]]) -> int:
    """Sum of line totals for (unit_cents, quantity) pairs."""
    return sum(line_total(unit, qty) for unit, qty in lines)
