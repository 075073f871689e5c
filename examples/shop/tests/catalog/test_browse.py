"""Browsing the catalog: a unittest class not named Test*, three base classes away from DatabaseTestCase."""

from shop.catalog import Product

from .helpers import SEED, SeededCatalogTestCase


class CatalogBrowsing(SeededCatalogTestCase):
    def test_seeded(self):
        self.assertEqual(self.products.count(), len(SEED))

    def test_category_sorted_by_price(self):
        skus = [p.sku for p in self.products.list_category("lighting")]
        self.assertEqual(skus, ["LMP-0001", "LMP-0002"])

    def test_inactive_products_hidden(self):
        self.products.deactivate("BOK-0001")
        self.assertEqual([p.sku for p in self.products.list_category("books")], ["BOK-0002"])

    def test_unknown_category_is_empty(self):
        self.assertEqual(self.products.list_category("garden"), [])

    def test_get_returns_product(self):
        self.assertEqual(self.products.get("MUG-0001"), SEED[4])


class CatalogAdditions(SeededCatalogTestCase):
    def test_add_another(self):
        self.products.add(Product("MUG-0002", "Tea mug", 800, "kitchen"))
        self.assertEqual([p.sku for p in self.products.list_category("kitchen")], ["MUG-0002", "MUG-0001"])

    def test_duplicate_sku_rejected(self):
        import psycopg2

        with self.assertRaises(psycopg2.IntegrityError):
            self.products.add(SEED[0])
