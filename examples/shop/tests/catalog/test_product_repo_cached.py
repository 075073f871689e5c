"""The cached ProductRepo: inherits every test of test_product_repo.TestProductRepo, adds memcached."""

from shop.catalog import ProductRepo
from shop.testing import CacheMixin
from tests.catalog import test_product_repo as base


class TestCachedProductRepo(CacheMixin, base.TestProductRepo):
    def make_repo(self):
        return ProductRepo(self.conn, cache=self.cache)

    def test_second_read_comes_from_cache(self):
        self.repo.get("LMP-0001")
        with self.conn.cursor() as cur:
            cur.execute("UPDATE products SET name = 'changed behind the cache' WHERE sku = 'LMP-0001'")
        self.conn.commit()
        self.assertEqual(self.repo.get("LMP-0001").name, "Desk lamp")

    def test_price_update_invalidates(self):
        self.repo.get("LMP-0001")
        self.repo.update_price("LMP-0001", 100)
        self.assertEqual(self.cache.get("product:LMP-0001"), None)
