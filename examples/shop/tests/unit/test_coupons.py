"""Coupon parsing and application (pure logic)."""

import datetime as dt

import pytest

from shop.coupons import CouponError, apply_coupon, parse_coupon, shipping_cost

TODAY = dt.date(2024, 6, 1)


class TestCouponParsing:
    @pytest.mark.parametrize(("code", "percent"), [("SAVE10", 10), ("save5", 5), (" SAVE90 ", 90)])
    def test_percent_codes(self, code, percent):
        assert parse_coupon(code).percent == percent

    def test_flat_code(self):
        assert parse_coupon("FLAT500").flat_cents == 500

    def test_free_shipping_code(self):
        assert parse_coupon("freeship").free_shipping

    @pytest.mark.parametrize("code", ["", "SAVE", "SAVE0", "SAVE95", "HALFOFF", "FLAT-5"])
    def test_invalid_codes(self, code):
        with pytest.raises(CouponError):
            parse_coupon(code)


class TestCouponApplication:
    def test_percent(self):
        assert apply_coupon(2000, parse_coupon("SAVE10"), TODAY) == 1800

    def test_flat_never_negative(self):
        assert apply_coupon(300, parse_coupon("FLAT500"), TODAY) == 0

    def test_expired(self):
        coupon = parse_coupon("SAVE10", expires=dt.date(2024, 5, 31))
        with pytest.raises(CouponError, match="expired"):
            apply_coupon(2000, coupon, TODAY)

    def test_minimum_spend(self):
        coupon = parse_coupon("SAVE10", min_spend_cents=5000)
        with pytest.raises(CouponError, match="minimum spend"):
            apply_coupon(2000, coupon, TODAY)


@pytest.mark.parametrize(("subtotal", "expected"), [(0, 490), (4999, 490), (5000, 0)])
def test_shipping_cost(subtotal, expected):
    assert shipping_cost(subtotal) == expected


def test_free_shipping_coupon():
    assert shipping_cost(100, parse_coupon("FREESHIP")) == 0
