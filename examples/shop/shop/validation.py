"""Input validation: e-mail addresses, SKUs, postal codes and quantities."""

from __future__ import annotations

import re

EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
SKU = re.compile(r"^[A-Z]{3}-\d{4}$")
POSTAL_CODES = {
    "FR": re.compile(r"^\d{5}$"),
    "DE": re.compile(r"^\d{5}$"),
    "UK": re.compile(r"^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$"),
    "US": re.compile(r"^\d{5}(-\d{4})?$"),
    "NL": re.compile(r"^\d{4} ?[A-Z]{2}$"),
}
MAX_QUANTITY = 999


class ValidationError(ValueError):
    """Input that does not validate."""


def is_valid_email(value: str) -> bool:
    return bool(EMAIL.match(value)) and ".." not in value


def is_valid_sku(value: str) -> bool:
    return bool(SKU.match(value))


def is_valid_postal_code(value: str, country: str) -> bool:
    pattern = POSTAL_CODES.get(country.upper())
    if pattern is None:
        raise ValidationError(f"unsupported country: {country}")
    return bool(pattern.match(value.strip().upper()))


def clean_quantity(value: str | int) -> int:
    """Parse a quantity from a form field; 1..MAX_QUANTITY."""
    try:
        quantity = int(value)
    except (TypeError, ValueError):
        raise ValidationError(f"not a number: {value!r}") from None
    if not 1 <= quantity <= MAX_QUANTITY:
        raise ValidationError(f"quantity out of range: {quantity}")
    return quantity


def normalize_email(value: str) -> str:
    """Lower-case the domain part and strip spaces; raise if invalid."""
    value = value.strip()
    if not is_valid_email(value):
        raise ValidationError(f"invalid e-mail: {value!r}")
    local, domain = value.rsplit("@", 1)
    return f"{local}@{domain.lower()}"
