"""E-mail, SKU, postal code and quantity validation (pure logic)."""

import pytest

from shop.validation import (
    ValidationError,
    clean_quantity,
    is_valid_email,
    is_valid_postal_code,
    is_valid_sku,
    normalize_email,
)


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("ann@example.com", True),
        ("a.b+shop@mail.example.org", True),
        ("no-at-sign.example.com", False),
        ("two@@example.com", False),
        ("dots..twice@example.com", False),
        ("x@localhost", False),
    ],
)
def test_email(value, valid):
    assert is_valid_email(value) is valid


@pytest.mark.parametrize(("value", "valid"), [("ABC-1234", True), ("abc-1234", False), ("ABCD-123", False)])
def test_sku(value, valid):
    assert is_valid_sku(value) is valid


@pytest.mark.parametrize(
    ("code", "country", "valid"),
    [
        ("75001", "FR", True),
        ("7500", "FR", False),
        ("SW1A 1AA", "UK", True),
        ("12345-6789", "US", True),
        ("1012 ab", "NL", True),
    ],
)
def test_postal_code(code, country, valid):
    assert is_valid_postal_code(code, country) is valid


def test_postal_code_unknown_country():
    with pytest.raises(ValidationError):
        is_valid_postal_code("1000", "ZZ")


@pytest.mark.parametrize(("raw", "expected"), [("1", 1), (" 12 ", 12), (999, 999)])
def test_clean_quantity(raw, expected):
    assert clean_quantity(raw) == expected


@pytest.mark.parametrize("raw", ["0", "1000", "many", None])
def test_clean_quantity_rejects(raw):
    with pytest.raises(ValidationError):
        clean_quantity(raw)


def test_normalize_email_lowercases_domain():
    assert normalize_email(" Ann@Example.COM ") == "Ann@example.com"
