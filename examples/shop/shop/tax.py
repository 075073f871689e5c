"""Sales tax by region, with the default rate taken from settings.TAX_RATE."""

from __future__ import annotations

from decimal import Decimal

from shop.money import round_cents
from shop.settings import settings

REGION_RATES: dict[str, Decimal] = {
    "FR": Decimal("0.20"),
    "DE": Decimal("0.19"),
    "LU": Decimal("0.17"),
    "IE": Decimal("0.23"),
    "UK": Decimal("0.20"),
    "US-OR": Decimal(0),
}

EXEMPT_CATEGORIES = frozenset({"books", "food"})


def rate_for(region: str | None) -> Decimal:
    """The tax rate of `region`, or the default rate."""
    if region is None:
        return Decimal(str(settings.TAX_RATE))
    try:
        return REGION_RATES[region.upper()]
    except KeyError:
        raise ValueError(f"unknown tax region: {region}") from None


def tax_for(cents: int, region: str | None = None, category: str = "general") -> int:
    """Tax owed on `cents` in `region`; some categories are exempt."""
    if category in EXEMPT_CATEGORIES:
        return 0
    return round_cents(Decimal(cents) * rate_for(region))


def gross(cents: int, region: str | None = None, category: str = "general") -> int:
    """`cents` with the tax added."""
    return cents + tax_for(cents, region, category)
