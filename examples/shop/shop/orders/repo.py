"""Orders and their lines in PostgreSQL."""

from __future__ import annotations

import psycopg2.extensions

from shop.orders.models import Order, OrderLine, check_transition


class OrderRepo:
    def __init__(self, conn: psycopg2.extensions.connection) -> None:
        self.conn = conn

    def create(self, order: Order, region: str | None = None, *, commit: bool = True) -> int:
        with self.conn.cursor() as cur:
            cur.execute(
                "INSERT INTO orders (customer_email, status, total_cents) VALUES (%s, %s, %s) RETURNING id",
                (order.customer_email, order.status, order.total(region)),
            )
            (order_id,) = cur.fetchone()
            for line in order.lines:
                cur.execute(
                    "INSERT INTO order_lines (order_id, sku, quantity, unit_price_cents) VALUES (%s, %s, %s, %s)",
                    (order_id, line.sku, line.quantity, line.unit_price_cents),
                )
        if commit:
            self.conn.commit()
        order.id = order_id
        return order_id

    def get(self, order_id: int) -> Order | None:
        with self.conn.cursor() as cur:
            cur.execute("SELECT customer_email, status FROM orders WHERE id = %s", (order_id,))
            row = cur.fetchone()
            if row is None:
                self.conn.commit()
                return None
            cur.execute(
                "SELECT sku, quantity, unit_price_cents FROM order_lines WHERE order_id = %s ORDER BY sku",
                (order_id,),
            )
            lines = [OrderLine(*line) for line in cur.fetchall()]
        self.conn.commit()
        return Order(customer_email=row[0], status=row[1], lines=lines, id=order_id)

    def total_cents(self, order_id: int) -> int:
        with self.conn.cursor() as cur:
            cur.execute("SELECT total_cents FROM orders WHERE id = %s", (order_id,))
            (total,) = cur.fetchone()
        self.conn.commit()
        return total

    def for_customer(self, email: str) -> list[int]:
        with self.conn.cursor() as cur:
            cur.execute("SELECT id FROM orders WHERE customer_email = %s ORDER BY id", (email,))
            ids = [row[0] for row in cur.fetchall()]
        self.conn.commit()
        return ids

    def set_status(self, order_id: int, status: str) -> None:
        with self.conn.cursor() as cur:
            cur.execute("SELECT status FROM orders WHERE id = %s FOR UPDATE", (order_id,))
            row = cur.fetchone()
            if row is None:
                self.conn.rollback()
                raise KeyError(order_id)
            try:
                check_transition(row[0], status)
            except ValueError:
                self.conn.rollback()
                raise
            cur.execute("UPDATE orders SET status = %s WHERE id = %s", (status, order_id))
        self.conn.commit()

    def count_by_status(self) -> dict[str, int]:
        with self.conn.cursor() as cur:
            cur.execute("SELECT status, count(*) FROM orders GROUP BY status")
            counts = {status: int(n) for status, n in cur.fetchall()}
        self.conn.commit()
        return counts
