"""Sales reports: a unittest class mixing CacheMixin (memcached) into DatabaseTestCase, and one pure test."""

from shop.orders.models import Order, OrderLine
from shop.orders.repo import OrderRepo
from shop.reports import CachedReports, render_csv, sales_by_status, top_products
from shop.testing.cases import CacheMixin, DatabaseTestCase


class SalesReportTests(CacheMixin, DatabaseTestCase):
    def setUp(self):
        super().setUp()
        orders = OrderRepo(self.conn)
        orders.create(Order("ann@example.com", [OrderLine("LMP-0001", 2, 2500)]))
        orders.create(Order("bob@example.com", [OrderLine("MUG-0001", 5, 900), OrderLine("LMP-0001", 1, 2500)]))
        orders.create(Order("cy@example.com", [OrderLine("MUG-0001", 9, 900)]))
        orders.set_status(3, "cancelled")
        self.reports = CachedReports(self.conn, self.cache)

    def test_sales_by_status(self):
        self.assertEqual(sales_by_status(self.conn), [("cancelled", 1, 9720), ("pending", 2, 14400)])

    def test_top_products_skip_cancelled(self):
        self.assertEqual(top_products(self.conn), [("MUG-0001", 5), ("LMP-0001", 3)])

    def test_csv_is_cached(self):
        first = self.reports.status_csv()
        OrderRepo(self.conn).set_status(1, "paid")
        self.assertEqual(self.reports.status_csv(), first)
        self.reports.invalidate()
        self.assertIn("paid,1,€60.00", self.reports.status_csv())

    def test_cache_holds_rendered_text(self):
        text = self.reports.status_csv()
        self.assertEqual(self.cache.get("report:status"), text)


def test_csv_header_only():
    assert render_csv(("status", "orders", "total"), []) == "status,orders,total\n"
