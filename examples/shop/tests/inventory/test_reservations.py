"""Concurrent reservations: `pytestmark = pytest.mark.usefixtures(...)` and a class-level usefixtures."""

import threading

import pytest

from shop import db
from shop.inventory import InventoryRepo, OutOfStock

pytestmark = pytest.mark.usefixtures("postgres_server")


@pytest.fixture
def connections():
    conns = [db.prepare(db.connect())] + [db.connect() for _ in range(3)]
    yield conns
    for conn in conns:
        conn.close()


def test_two_connections_cannot_oversell(connections):
    first, second = (InventoryRepo(c) for c in connections[:2])
    first.set_stock("MUG-0001", 1)
    first.reserve("MUG-0001", 1)
    with pytest.raises(OutOfStock):
        second.reserve("MUG-0001", 1)


def test_parallel_reservations(connections):
    InventoryRepo(connections[0]).set_stock("MUG-0001", 2)
    outcomes = []

    def worker(conn):
        try:
            InventoryRepo(conn).reserve("MUG-0001", 1)
            outcomes.append("ok")
        except OutOfStock:
            outcomes.append("out")

    threads = [threading.Thread(target=worker, args=(conn,)) for conn in connections[1:]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ok", "ok", "out"]


@pytest.mark.usefixtures("pg_conn")
class TestLowStock:
    @pytest.fixture
    def repo(self):
        conn = db.connect()
        yield InventoryRepo(conn)
        conn.close()

    @pytest.mark.parametrize(("threshold", "expected"), [(1, []), (3, ["LMP-0001"]), (10, ["LMP-0001", "MUG-0001"])])
    def test_low_stock(self, repo, threshold, expected):
        repo.set_stock("LMP-0001", 2)
        repo.set_stock("MUG-0001", 9)
        assert repo.low_stock(threshold) == expected

    def test_reserved_units_count_as_gone(self, repo):
        repo.set_stock("LMP-0001", 5)
        repo.reserve("LMP-0001", 4)
        assert repo.low_stock(2) == ["LMP-0001"]
