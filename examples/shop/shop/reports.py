"""Sales reports from PostgreSQL, rendered as CSV, optionally cached."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

import psycopg2.extensions

from shop.cache import Cache
from shop.money import format_price


def sales_by_status(conn: psycopg2.extensions.connection) -> list[tuple[str, int, int]]:
    """(status, number of orders, total cents), by status."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT status, count(*), coalesce(sum(total_cents), 0) FROM orders GROUP BY status ORDER BY status"
        )
        rows = [(status, int(n), int(total)) for status, n, total in cur.fetchall()]
    conn.commit()
    return rows


def top_products(conn: psycopg2.extensions.connection, limit: int = 5) -> list[tuple[str, int]]:
    """(sku, units sold) for the best sellers, excluding cancelled orders."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT l.sku, sum(l.quantity) AS units FROM order_lines l JOIN orders o ON o.id = l.order_id "
            "WHERE o.status <> 'cancelled' GROUP BY l.sku ORDER BY units DESC, l.sku LIMIT %s",
            (limit,),
        )
        rows = [(sku, int(units)) for sku, units in cur.fetchall()]
    conn.commit()
    return rows


def render_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def money_column(rows: Iterable[Sequence[object]], index: int, currency: str = "EUR") -> list[list[object]]:
    """Copy of `rows` with column `index` (cents) formatted as a price."""
    result = []
    for row in rows:
        row = list(row)
        row[index] = format_price(int(row[index]), currency)
        result.append(row)
    return result


class CachedReports:
    """Keeps rendered reports in a cache until invalidated."""

    def __init__(self, conn: psycopg2.extensions.connection, cache: Cache) -> None:
        self.conn = conn
        self.cache = cache

    def status_csv(self) -> str:
        return self.cache.get_or_set(
            "report:status",
            lambda: render_csv(("status", "orders", "total"), money_column(sales_by_status(self.conn), 2)),
            ttl=60,
        )

    def invalidate(self) -> None:
        self.cache.delete("report:status")
