"""Catalog test base: a DatabaseTestCase with a ProductRepo (middle link of a base-class chain)."""

from __future__ import annotations

from shop.catalog import Product, ProductRepo

from .cases import DatabaseTestCase


class CatalogTestCase(DatabaseTestCase):
    """`self.products` is a ProductRepo on the test's connection."""

    def setUp(self) -> None:
        super().setUp()
        self.products = ProductRepo(self.conn)

    def add_products(self, *products: Product) -> None:
        for product in products:
            self.products.add(product)
