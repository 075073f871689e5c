"""The store: `testmap classify` keeps its results in `.testmap/testmap.db` (SQLite).

One row per test in `test`, the static reasons in `service_use`; tests that disappear from
the source disappear from the store; a broken store is noticed and rebuilt; `--no-store`
writes nothing.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

PYPROJECT = (
    "[tool.pytest.ini_options]\n"
    'markers = ["postgres: needs PostgreSQL"]\n'
    "\n"
    "[tool.testmap.services.postgres]\n"
    'markers = ["postgres"]\n'
    "\n"
    "[tool.testmap.services.redis]\n"
    'fixtures = ["redis_client"]\n'
)
TEST_A = (
    "import pytest\n"
    "\n"
    "\n"
    "@pytest.mark.postgres\n"
    "def test_db():\n"
    "    pass\n"
    "\n"
    "\n"
    "def test_plain():\n"
    "    pass\n"
    "\n"
    "\n"
    "def test_to_delete():\n"
    "    pass\n"
)
TEST_B = (
    "class TestB:\n"
    "    def test_cache(self, redis_client):\n"
    "        pass\n"
    "\n"
    "\n"
    "class TestUnresolved(NoSuchBase):\n"
    "    def test_unknown(self):\n"
    "        pass\n"
)
CONFTEST = "import pytest\n\n\n@pytest.fixture\ndef redis_client():\n    return None\n"
EXPECTED = {
    "tests/test_a.py::test_db": ("postgres_only", 0),
    "tests/test_a.py::test_plain": ("no_services", 0),
    "tests/test_a.py::test_to_delete": ("no_services", 0),
    "tests/test_b.py::TestB::test_cache": ("redis_only", 0),
    "tests/test_b.py::TestUnresolved::test_unknown": ("unknown", 1),
}


@pytest.fixture
def repo(make_tree) -> Path:
    return make_tree(
        {
            "pyproject.toml": PYPROJECT,
            "tests/conftest.py": CONFTEST,
            "tests/test_a.py": TEST_A,
            "tests/test_b.py": TEST_B,
        }
    )


def store_of(root: Path) -> Path:
    return root / ".testmap" / "testmap.db"


def query(root: Path, sql: str) -> list[tuple]:
    db = sqlite3.connect(store_of(root))
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def stored_tests(root: Path) -> dict[str, tuple]:
    return {nodeid: (tier, unknown) for nodeid, tier, unknown in query(root, STORE_TESTS)}


STORE_TESTS = "SELECT nodeid, tier, unknown FROM test"
STORE_REASONS = (
    "SELECT t.nodeid, s.service, s.source, s.rule, s.file, s.line "
    "FROM service_use s JOIN test t ON t.id = s.test_id ORDER BY t.nodeid, s.service"
)


def classify(run_testmap, root: Path, *extra: str):
    proc = run_testmap("classify", *extra, root)
    assert proc.returncode == 0, proc.stderr
    return proc


def test_classify_writes_one_row_per_test(repo, run_testmap):
    proc = classify(run_testmap, repo)
    # The one thing said is the base class TestUnresolved cannot follow: no store error.
    [line] = proc.stderr.splitlines()
    assert "NoSuchBase" in line, proc.stderr
    assert store_of(repo).is_file()
    assert stored_tests(repo) == EXPECTED


def test_static_reasons_are_stored(repo, run_testmap):
    classify(run_testmap, repo)
    rows = query(repo, STORE_REASONS)
    by_test = {}
    for nodeid, service, source, rule, file, line in rows:
        assert source == "static"
        by_test.setdefault(nodeid, []).append((service, rule, file, line))
    assert set(by_test) == {
        "tests/test_a.py::test_db",
        "tests/test_b.py::TestB::test_cache",
        "tests/test_b.py::TestUnresolved::test_unknown",
    }
    [(service, rule, file, line)] = by_test["tests/test_a.py::test_db"]
    assert (service, rule, file) == ("postgres", "marker", "tests/test_a.py")
    assert line in (4, 5)
    [(service, rule, file, line)] = by_test["tests/test_b.py::TestB::test_cache"]
    assert (service, rule, file, line) == ("redis", "fixture", "tests/conftest.py", 5)
    [(service, rule, file, line)] = by_test["tests/test_b.py::TestUnresolved::test_unknown"]
    assert (service, rule, file, line) == ("*", "unresolved", "tests/test_b.py", 6)


def test_rerunning_does_not_duplicate_rows(repo, run_testmap):
    classify(run_testmap, repo)
    first_tests = query(repo, "SELECT id, nodeid FROM test ORDER BY id")
    first_reasons = query(repo, STORE_REASONS)
    classify(run_testmap, repo)
    assert query(repo, "SELECT id, nodeid FROM test ORDER BY id") == first_tests
    assert query(repo, STORE_REASONS) == first_reasons


def test_a_deleted_test_leaves_the_store(repo, run_testmap):
    classify(run_testmap, repo)
    ids_before = dict(query(repo, "SELECT nodeid, id FROM test"))
    (repo / "tests" / "test_a.py").write_text(TEST_A.split("\n\n\ndef test_to_delete")[0] + "\n")
    classify(run_testmap, repo)
    expected = dict(EXPECTED)
    del expected["tests/test_a.py::test_to_delete"]
    assert stored_tests(repo) == expected
    # the tests that stay keep their row (and with it their history)
    ids_after = dict(query(repo, "SELECT nodeid, id FROM test"))
    assert ids_after == {k: v for k, v in ids_before.items() if k in expected}


def test_a_deleted_file_takes_its_tests_and_reasons_away(repo, run_testmap):
    classify(run_testmap, repo)
    (repo / "tests" / "test_b.py").unlink()
    classify(run_testmap, repo)
    assert set(stored_tests(repo)) == {
        "tests/test_a.py::test_db",
        "tests/test_a.py::test_plain",
        "tests/test_a.py::test_to_delete",
    }
    assert {row[0] for row in query(repo, STORE_REASONS)} == {"tests/test_a.py::test_db"}
    assert query(repo, "SELECT count(*) FROM service_use") == [(1,)]


@pytest.mark.parametrize(
    "content",
    [
        b"this is not a database\n" * 200 + bytes(range(256)) * 16,
        b"SQLite format 3\x00" + b"\xff" * 4080,
    ],
    ids=["garbage", "truncated SQLite header"],
)
def test_corrupt_store_is_noticed_and_rebuilt(content, repo, run_testmap):
    store_of(repo).parent.mkdir()
    store_of(repo).write_bytes(content)
    proc = classify(run_testmap, repo)
    assert "testmap.db" in proc.stderr  # a notice says which file was rebuilt
    assert "postgres_only" in proc.stdout
    assert stored_tests(repo) == EXPECTED
    # and the rebuilt store is healthy: the next run is silent
    proc = classify(run_testmap, repo)
    # The one thing said is the base class TestUnresolved cannot follow: no store error.
    [line] = proc.stderr.splitlines()
    assert "NoSuchBase" in line, proc.stderr


def test_a_foreign_sqlite_database_is_not_trusted(repo, run_testmap):
    store_of(repo).parent.mkdir()
    db = sqlite3.connect(store_of(repo))
    db.execute("CREATE TABLE something_else (x INTEGER)")
    db.commit()
    db.close()
    proc = classify(run_testmap, repo)
    assert "testmap.db" in proc.stderr
    assert stored_tests(repo) == EXPECTED


def test_no_store_writes_nothing(repo, run_testmap):
    for extra in (("--no-store",), ("--no-store", "--json")):
        classify(run_testmap, repo, *extra)
        assert not (repo / ".testmap").exists()
