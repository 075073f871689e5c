"""Stock levels and reservations in PostgreSQL (row locks keep concurrent checkouts honest)."""

from __future__ import annotations

import psycopg2.extensions


class OutOfStock(RuntimeError):
    """Not enough unreserved units."""


class InventoryRepo:
    def __init__(self, conn: psycopg2.extensions.connection) -> None:
        self.conn = conn

    def set_stock(self, sku: str, quantity: int) -> None:
        with self.conn.cursor() as cur:
            cur.execute(
                "INSERT INTO stock (sku, quantity) VALUES (%s, %s) "
                "ON CONFLICT (sku) DO UPDATE SET quantity = EXCLUDED.quantity",
                (sku, quantity),
            )
        self.conn.commit()

    def levels(self, sku: str) -> tuple[int, int]:
        """(quantity, reserved) of `sku`; (0, 0) when unknown."""
        with self.conn.cursor() as cur:
            cur.execute("SELECT quantity, reserved FROM stock WHERE sku = %s", (sku,))
            row = cur.fetchone()
        self.conn.commit()
        return (0, 0) if row is None else (row[0], row[1])

    def available(self, sku: str) -> int:
        quantity, reserved = self.levels(sku)
        return quantity - reserved

    def reserve(self, sku: str, quantity: int, *, commit: bool = True) -> None:
        with self.conn.cursor() as cur:
            cur.execute("SELECT quantity, reserved FROM stock WHERE sku = %s FOR UPDATE", (sku,))
            row = cur.fetchone()
            if row is None or row[0] - row[1] < quantity:
                self.conn.rollback()
                raise OutOfStock(f"{sku}: wanted {quantity}, have {0 if row is None else row[0] - row[1]}")
            cur.execute("UPDATE stock SET reserved = reserved + %s WHERE sku = %s", (quantity, sku))
        if commit:
            self.conn.commit()

    def release(self, sku: str, quantity: int) -> None:
        with self.conn.cursor() as cur:
            cur.execute("UPDATE stock SET reserved = greatest(reserved - %s, 0) WHERE sku = %s", (quantity, sku))
        self.conn.commit()

    def ship(self, sku: str, quantity: int) -> None:
        """Turn a reservation into a sale: both quantity and reserved go down."""
        with self.conn.cursor() as cur:
            cur.execute(
                "UPDATE stock SET quantity = quantity - %s, reserved = reserved - %s WHERE sku = %s AND reserved >= %s",
                (quantity, quantity, sku, quantity),
            )
            if cur.rowcount != 1:
                self.conn.rollback()
                raise OutOfStock(f"{sku}: nothing reserved to ship")
        self.conn.commit()

    def low_stock(self, threshold: int) -> list[str]:
        with self.conn.cursor() as cur:
            cur.execute("SELECT sku FROM stock WHERE quantity - reserved < %s ORDER BY sku", (threshold,))
            rows = [row[0] for row in cur.fetchall()]
        self.conn.commit()
        return rows
