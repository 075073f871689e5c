"""Order data and the status state machine (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field

from shop.pricing import line_total
from shop.tax import tax_for

TRANSITIONS: dict[str, frozenset[str]] = {
    "pending": frozenset({"paid", "cancelled"}),
    "paid": frozenset({"shipped", "refunded"}),
    "shipped": frozenset({"delivered", "returned"}),
    "delivered": frozenset({"returned"}),
    "returned": frozenset({"refunded"}),
    "cancelled": frozenset(),
    "refunded": frozenset(),
}


class InvalidTransition(ValueError):
    """A status change the state machine does not allow."""


@dataclass(frozen=True)
class OrderLine:
    sku: str
    quantity: int
    unit_price_cents: int

    @property
    def total(self) -> int:
        return line_total(self.unit_price_cents, self.quantity)


@dataclass
class Order:
    customer_email: str
    lines: list[OrderLine] = field(default_factory=list)
    status: str = "pending"
    id: int | None = None

    @property
    def subtotal(self) -> int:
        return sum(line.total for line in self.lines)

    def total(self, region: str | None = None) -> int:
        return self.subtotal + tax_for(self.subtotal, region)


def check_transition(current: str, new: str) -> None:
    if current not in TRANSITIONS:
        raise InvalidTransition(f"unknown status {current!r}")
    if new not in TRANSITIONS[current]:
        raise InvalidTransition(f"{current} -> {new} is not allowed")


def is_final(status: str) -> bool:
    return not TRANSITIONS[status]
