"""Card numbers and the fake payment gateway (pure logic)."""

import pytest

from shop.payments import FakeGateway, PaymentError, card_brand, luhn_valid, mask_card

VISA = "4111 1111 1111 1111"
DECLINED = "4000000000000002"


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        (VISA, True),
        ("5555555555554444", True),
        ("378282246310005", True),
        ("4111111111111112", False),
        ("1234", False),
        ("4111-1111-1111-1111", False),
    ],
)
def test_luhn(number, valid):
    assert luhn_valid(number) is valid


@pytest.mark.parametrize(
    ("number", "brand"),
    [(VISA, "visa"), ("5555555555554444", "mastercard"), ("378282246310005", "amex"), ("6011111111111117", "unknown")],
)
def test_brand(number, brand):
    assert card_brand(number) == brand


def test_mask():
    assert mask_card(VISA) == "************1111"


class TestFakeGateway:
    def test_approves(self):
        assert FakeGateway().charge(VISA, 1000).status == "approved"

    def test_declines(self):
        assert FakeGateway().charge(DECLINED, 1000).status == "declined"

    def test_rejects_invalid_card(self):
        with pytest.raises(PaymentError):
            FakeGateway().charge("4111111111111112", 1000)

    def test_refund(self):
        gateway = FakeGateway()
        charge = gateway.charge(VISA, 1000)
        assert gateway.refund(charge.reference).amount_cents == -1000

    def test_cannot_refund_declined(self):
        gateway = FakeGateway()
        charge = gateway.charge(DECLINED, 1000)
        with pytest.raises(PaymentError):
            gateway.refund(charge.reference)
