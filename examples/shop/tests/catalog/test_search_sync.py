"""Keeping search in sync with the catalog: the set-up methods call index_document (a `calls` signal)."""

from shop.catalog import Product, ProductRepo, search_document
from shop.search.client import SearchClient, index_document, reset_index, search
from shop.testing import DatabaseTestCase

PRODUCTS = (
    Product("LMP-0001", "Desk lamp", 2500, "lighting", "LED lamp"),
    Product("LMP-0002", "Floor lamp", 8900, "lighting", "Tall lamp"),
)


class TestSearchSync(DatabaseTestCase):
    def setUp(self):
        super().setUp()
        reset_index()
        self.repo = ProductRepo(self.conn)
        for product in PRODUCTS:
            self.repo.add(product)
            index_document(product.sku, search_document(product))

    def test_both_indexed(self):
        self.assertEqual({r.id for r in search("lamp")}, {"LMP-0001", "LMP-0002"})

    def test_price_change_reindexed(self):
        self.repo.update_price("LMP-0001", 100)
        updated = self.repo.get("LMP-0001")
        index_document(updated.sku, search_document(updated))
        (hit,) = [r for r in search("desk") if r.id == "LMP-0001"]
        self.assertEqual(hit.fields["price_cents"], 100)


class TestIndexingHelpers:
    """A plain class: setup_method calls `client.index_document` (search only, no database)."""

    def setup_method(self, method):
        self.client = SearchClient()
        self.client.reset_index("drafts")
        self.client.index_document("DRAFT-1", {"name": "Unreleased lamp"}, index="drafts")

    def test_draft_index_is_separate(self):
        assert self.client.search("unreleased", index="drafts")[0].id == "DRAFT-1"
        assert self.client.search("unreleased") == []

    def test_delete_document(self):
        self.client.delete_document("DRAFT-1", index="drafts")
        assert self.client.stats("drafts")["documents"] == 0
