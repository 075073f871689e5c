"""Payments: card checks, a deterministic fake gateway, the ledger (PostgreSQL) and idempotency keys (Redis)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import psycopg2.extensions
import redis

BRANDS = (
    ("4", "visa"),
    ("51", "mastercard"),
    ("52", "mastercard"),
    ("53", "mastercard"),
    ("54", "mastercard"),
    ("55", "mastercard"),
    ("34", "amex"),
    ("37", "amex"),
)
DECLINED_SUFFIX = "0002"


class PaymentError(RuntimeError):
    """A charge the gateway refused, or a duplicate request."""


def luhn_valid(number: str) -> bool:
    """The Luhn checksum of a card number (spaces allowed)."""
    digits = number.replace(" ", "")
    if not digits.isdigit() or not 12 <= len(digits) <= 19:
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def card_brand(number: str) -> str:
    digits = number.replace(" ", "")
    for prefix, brand in BRANDS:
        if digits.startswith(prefix):
            return brand
    return "unknown"


def mask_card(number: str) -> str:
    digits = number.replace(" ", "")
    return "*" * (len(digits) - 4) + digits[-4:]


@dataclass(frozen=True)
class Charge:
    reference: str
    amount_cents: int
    status: str


class FakeGateway:
    """Approves valid cards, declines those ending in 0002; keeps charges in memory."""

    def __init__(self) -> None:
        self.charges: list[Charge] = []

    def charge(self, card_number: str, amount_cents: int) -> Charge:
        if amount_cents <= 0:
            raise PaymentError("amount must be positive")
        if not luhn_valid(card_number):
            raise PaymentError("invalid card number")
        status = "declined" if card_number.replace(" ", "").endswith(DECLINED_SUFFIX) else "approved"
        charge = Charge(reference=uuid.uuid4().hex, amount_cents=amount_cents, status=status)
        self.charges.append(charge)
        return charge

    def refund(self, reference: str) -> Charge:
        for charge in self.charges:
            if charge.reference == reference and charge.status == "approved":
                refund = Charge(reference=reference + "-r", amount_cents=-charge.amount_cents, status="refunded")
                self.charges.append(refund)
                return refund
        raise PaymentError(f"no approved charge {reference}")


class PaymentLedger:
    """Records charges in the `payments` table."""

    def __init__(self, conn: psycopg2.extensions.connection) -> None:
        self.conn = conn

    def record(self, order_id: int | None, charge: Charge) -> int:
        with self.conn.cursor() as cur:
            cur.execute(
                "INSERT INTO payments (order_id, amount_cents, status, reference) VALUES (%s, %s, %s, %s) RETURNING id",
                (order_id, charge.amount_cents, charge.status, charge.reference),
            )
            (payment_id,) = cur.fetchone()
        self.conn.commit()
        return payment_id

    def balance(self, order_id: int) -> int:
        with self.conn.cursor() as cur:
            cur.execute(
                "SELECT coalesce(sum(amount_cents), 0) FROM payments "
                "WHERE order_id = %s AND status IN ('approved', 'refunded')",
                (order_id,),
            )
            return int(cur.fetchone()[0])

    def by_status(self, status: str) -> list[str]:
        with self.conn.cursor() as cur:
            cur.execute("SELECT reference FROM payments WHERE status = %s ORDER BY id", (status,))
            return [row[0] for row in cur.fetchall()]


class IdempotencyGuard:
    """Remembers request keys in Redis so a payment is not charged twice."""

    def __init__(self, client: redis.Redis, ttl: int = 86400) -> None:
        self.client = client
        self.ttl = ttl

    def claim(self, key: str) -> bool:
        """True the first time `key` is seen, False afterwards."""
        return bool(self.client.set(f"idem:{key}", "1", nx=True, ex=self.ttl))

    def release(self, key: str) -> None:
        self.client.delete(f"idem:{key}")
