"""The payment ledger in PostgreSQL: module-level `pytestmark` as a list of markers."""

import pytest

from shop import db
from shop.orders.models import Order, OrderLine
from shop.orders.repo import OrderRepo
from shop.payments import Charge, FakeGateway, PaymentLedger

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

VISA = "4111111111111111"


@pytest.fixture
def conn():
    conn = db.prepare(db.connect())
    yield conn
    conn.close()


@pytest.fixture
def order_id(conn):
    return OrderRepo(conn).create(Order("ann@example.com", [OrderLine("LMP-0001", 1, 2500)]))


def test_record_charge(conn, order_id):
    ledger = PaymentLedger(conn)
    assert ledger.record(order_id, FakeGateway().charge(VISA, 3000)) == 1


def test_balance_after_refund(conn, order_id):
    gateway, ledger = FakeGateway(), PaymentLedger(conn)
    charge = gateway.charge(VISA, 3000)
    ledger.record(order_id, charge)
    ledger.record(order_id, gateway.refund(charge.reference))
    assert ledger.balance(order_id) == 0


def test_declined_not_in_balance(conn, order_id):
    ledger = PaymentLedger(conn)
    ledger.record(order_id, FakeGateway().charge("4000000000000002", 3000))
    assert ledger.balance(order_id) == 0


def test_reference_unique(conn, order_id):
    import psycopg2

    ledger = PaymentLedger(conn)
    ledger.record(order_id, Charge("ref-1", 100, "approved"))
    with pytest.raises(psycopg2.IntegrityError):
        ledger.record(order_id, Charge("ref-1", 100, "approved"))
    conn.rollback()


@pytest.mark.parametrize("status", ["approved", "declined"])
def test_by_status(conn, order_id, status):
    ledger = PaymentLedger(conn)
    ledger.record(order_id, Charge("ref-a", 100, "approved"))
    ledger.record(order_id, Charge("ref-d", 100, "declined"))
    assert ledger.by_status(status) == ["ref-" + status[0]]
