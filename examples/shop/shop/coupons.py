"""Coupon codes: parsing (SAVE10, FLAT500, FREESHIP) and applying them to a subtotal."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from shop.pricing import apply_discount

_CODE = re.compile(r"^(SAVE(?P<percent>\d{1,2})|FLAT(?P<flat>\d{1,6})|(?P<ship>FREESHIP))$")


class CouponError(ValueError):
    """A coupon that cannot be parsed or applied."""


@dataclass(frozen=True)
class Coupon:
    code: str
    percent: int = 0
    flat_cents: int = 0
    free_shipping: bool = False
    min_spend_cents: int = 0
    expires: dt.date | None = None


def parse_coupon(code: str, *, min_spend_cents: int = 0, expires: dt.date | None = None) -> Coupon:
    """Parse a coupon code, case-insensitively."""
    normalized = code.strip().upper()
    match = _CODE.match(normalized)
    if match is None:
        raise CouponError(f"invalid coupon code: {code!r}")
    percent = int(match["percent"] or 0)
    if match["percent"] is not None and not 1 <= percent <= 90:
        raise CouponError(f"percent out of range: {percent}")
    return Coupon(
        code=normalized,
        percent=percent,
        flat_cents=int(match["flat"] or 0),
        free_shipping=match["ship"] is not None,
        min_spend_cents=min_spend_cents,
        expires=expires,
    )


def apply_coupon(subtotal_cents: int, coupon: Coupon, today: dt.date) -> int:
    """The subtotal after the coupon (never below zero)."""
    if coupon.expires is not None and today > coupon.expires:
        raise CouponError(f"coupon {coupon.code} expired on {coupon.expires}")
    if subtotal_cents < coupon.min_spend_cents:
        raise CouponError(f"coupon {coupon.code} needs a minimum spend of {coupon.min_spend_cents}")
    total = apply_discount(subtotal_cents, coupon.percent) if coupon.percent else subtotal_cents
    return max(0, total - coupon.flat_cents)


def shipping_cost(subtotal_cents: int, coupon: Coupon | None = None) -> int:
    """Flat shipping, free above 50.00 or with a FREESHIP coupon."""
    if coupon is not None and coupon.free_shipping:
        return 0
    return 0 if subtotal_cents >= 5000 else 490
