"""Catalog test helpers: a seeded catalog base class (last link of DatabaseTestCase -> CatalogTestCase -> here)."""

from shop.catalog import Product
from shop.testing.catalog import CatalogTestCase

SEED = (
    Product("LMP-0001", "Desk lamp", 2500, "lighting", "Adjustable LED desk lamp"),
    Product("LMP-0002", "Floor lamp", 8900, "lighting", "Tall lamp with a linen shade"),
    Product("BOK-0001", "Python cookbook", 3900, "books", "Recipes for Python programmers"),
    Product("BOK-0002", "SQL primer", 2900, "books", "Relational databases from scratch"),
    Product("MUG-0001", "Coffee mug", 900, "kitchen", "Stoneware mug, 300 ml"),
)


class SeededCatalogTestCase(CatalogTestCase):
    """A catalog with the SEED products."""

    def setUp(self):
        super().setUp()
        self.add_products(*SEED)
