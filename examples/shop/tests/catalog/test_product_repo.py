"""ProductRepo on PostgreSQL; TestProductRepo is also the base of test_product_repo_cached.TestCachedProductRepo."""

from shop.catalog import Product, ProductRepo
from shop.testing import DatabaseTestCase as DBCase

LAMP = Product("LMP-0001", "Desk lamp", 2500, "lighting")


class TestProductRepo(DBCase):
    def make_repo(self):
        return ProductRepo(self.conn)

    def setUp(self):
        super().setUp()
        self.repo = self.make_repo()
        self.repo.add(LAMP)

    def test_get(self):
        self.assertEqual(self.repo.get("LMP-0001"), LAMP)

    def test_get_missing(self):
        self.assertIsNone(self.repo.get("LMP-9999"))

    def test_update_price(self):
        self.repo.update_price("LMP-0001", 1999)
        self.assertEqual(self.repo.get("LMP-0001").price_cents, 1999)

    def test_update_price_missing(self):
        with self.assertRaises(KeyError):
            self.repo.update_price("LMP-9999", 1)

    def test_deactivate(self):
        self.repo.deactivate("LMP-0001")
        self.assertFalse(self.repo.get("LMP-0001").active)

    def test_all_active(self):
        self.repo.add(Product("LMP-0002", "Floor lamp", 8900, "lighting", active=False))
        self.assertEqual([p.sku for p in self.repo.all_active()], ["LMP-0001"])
