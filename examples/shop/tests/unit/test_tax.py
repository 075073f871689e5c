"""Tax by region and category (pure logic; the default rate comes from settings)."""

import pytest

from shop.tax import gross, rate_for, tax_for


@pytest.mark.parametrize(
    ("region", "expected"),
    [("FR", 200), ("DE", 190), ("LU", 170), ("IE", 230), ("uk", 200), ("US-OR", 0)],
)
def test_tax_by_region(region, expected):
    assert tax_for(1000, region) == expected


def test_default_rate_from_settings():
    assert tax_for(1000) == 200


@pytest.mark.parametrize("category", ["books", "food"])
def test_exempt_categories(category):
    assert tax_for(1000, "FR", category) == 0


def test_rounding_half_up():
    assert tax_for(3, "FR") == 1  # 0.6 -> 1
    assert tax_for(2, "FR") == 0  # 0.4 -> 0


def test_unknown_region():
    with pytest.raises(ValueError, match="unknown tax region"):
        rate_for("XX")


def test_gross_adds_tax():
    assert gross(1000, "DE") == 1190
