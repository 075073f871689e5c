"""Catalog export to search: multiple inheritance of a search mixin and the database base class."""

from shop.catalog import Product, ProductRepo, search_document
from shop.testing import DatabaseTestCase, SearchMixin


class TestSearchableCatalog(SearchMixin, DatabaseTestCase):
    def setUp(self):
        super().setUp()
        self.repo = ProductRepo(self.conn)
        self.repo.add(Product("LMP-0001", "Desk lamp", 2500, "lighting", "LED lamp for the desk"))
        self.repo.add(Product("MUG-0001", "Coffee mug", 900, "kitchen", "Stoneware mug"))

    def export(self):
        return self.search.bulk_index((p.sku, search_document(p)) for p in self.repo.all_active())

    def test_export_all_active(self):
        self.assertEqual(self.export(), 2)
        self.assertEqual(self.search.stats()["documents"], 2)

    def test_exported_products_are_found(self):
        self.export()
        self.assertEqual([r.id for r in self.search.search("lamp")], ["LMP-0001"])

    def test_deactivated_products_not_exported(self):
        self.repo.deactivate("MUG-0001")
        self.export()
        self.assertEqual(self.search.search("mug"), [])

    def test_filter_by_category(self):
        self.export()
        self.assertEqual([r.id for r in self.search.search("category:kitchen")], ["MUG-0001"])
