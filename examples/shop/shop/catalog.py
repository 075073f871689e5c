"""The product catalog, stored in PostgreSQL, optionally cached, and exported to the search service."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import psycopg2.extensions

from shop.cache import Cache
from shop.validation import ValidationError, is_valid_sku


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    price_cents: int
    category: str = "general"
    description: str = ""
    active: bool = True

    def __post_init__(self) -> None:
        if not is_valid_sku(self.sku):
            raise ValidationError(f"invalid SKU: {self.sku!r}")
        if self.price_cents < 0:
            raise ValidationError("negative price")


COLUMNS = "sku, name, price_cents, category, description, active"


class ProductRepo:
    """Products by SKU; reads go through `cache` when one is given."""

    def __init__(self, conn: psycopg2.extensions.connection, cache: Cache | None = None) -> None:
        self.conn = conn
        self.cache = cache

    def add(self, product: Product) -> None:
        with self.conn.cursor() as cur:
            cur.execute(
                f"INSERT INTO products ({COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s)",
                (product.sku, product.name, product.price_cents, product.category, product.description, product.active),
            )
        self.conn.commit()

    def _fetch(self, sku: str) -> Product | None:
        with self.conn.cursor() as cur:
            cur.execute(f"SELECT {COLUMNS} FROM products WHERE sku = %s", (sku,))
            row = cur.fetchone()
        return None if row is None else Product(*row)

    def get(self, sku: str) -> Product | None:
        if self.cache is None:
            return self._fetch(sku)
        cached = self.cache.get(f"product:{sku}")
        if cached is not None:
            return Product(**cached)
        product = self._fetch(sku)
        if product is not None:
            self.cache.set(f"product:{sku}", asdict(product), ttl=300)
        return product

    def list_category(self, category: str) -> list[Product]:
        with self.conn.cursor() as cur:
            cur.execute(
                f"SELECT {COLUMNS} FROM products WHERE category = %s AND active ORDER BY price_cents, sku",
                (category,),
            )
            return [Product(*row) for row in cur.fetchall()]

    def update_price(self, sku: str, price_cents: int) -> None:
        with self.conn.cursor() as cur:
            cur.execute("UPDATE products SET price_cents = %s WHERE sku = %s", (price_cents, sku))
            if cur.rowcount != 1:
                raise KeyError(sku)
        self.conn.commit()
        if self.cache is not None:
            self.cache.delete(f"product:{sku}")

    def deactivate(self, sku: str) -> None:
        with self.conn.cursor() as cur:
            cur.execute("UPDATE products SET active = false WHERE sku = %s", (sku,))
        self.conn.commit()
        if self.cache is not None:
            self.cache.delete(f"product:{sku}")

    def count(self) -> int:
        with self.conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM products")
            return int(cur.fetchone()[0])

    def all_active(self) -> list[Product]:
        with self.conn.cursor() as cur:
            cur.execute(f"SELECT {COLUMNS} FROM products WHERE active ORDER BY sku")
            return [Product(*row) for row in cur.fetchall()]


def search_document(product: Product) -> dict[str, str | int]:
    """The fields of `product` sent to the search service."""
    return {
        "name": product.name,
        "description": product.description,
        "category": product.category,
        "price_cents": product.price_cents,
    }
