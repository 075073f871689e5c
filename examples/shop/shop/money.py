"""Money helpers: amounts are integer cents, rounding is half-up to the cent."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}


def to_cents(amount: str | Decimal) -> int:
    """Parse '12.34' into 1234 cents."""
    value = Decimal(str(amount)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return int(value * 100)


def round_cents(value: Decimal) -> int:
    """Round a fractional number of cents to a whole cent, half-up."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def format_price(cents: int, currency: str = "EUR") -> str:
    """Render cents as '€12.34' (negative amounts as '-€12.34')."""
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    symbol = SYMBOLS.get(currency, currency + " ")
    return f"{sign}{symbol}{whole:,}.{frac:02d}"
