"""`testmap record` on the example shop, end to end, with its real servers.

The shop's suite starts PostgreSQL, Redis, memcached and its search service on free ports
and declares them to testmap. Recording it must give, test by test, exactly the services
`examples/shop/expected_services.toml` says (written by hand), catch the tests whose
service a settings override chooses, and enforcing the static tiers must break nothing.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
from shoprun import SHOP, copy_shop, record_pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

TIMEOUT = 300


@pytest.fixture(scope="module")
def expected() -> dict:
    with open(SHOP / "expected_services.toml", "rb") as f:
        return tomllib.load(f)


def runtime_services(root: Path) -> dict[str, set[str]]:
    db = sqlite3.connect(root / ".testmap" / "testmap.db")
    try:
        out: dict[str, set[str]] = defaultdict(set)
        rows = db.execute(
            "SELECT t.nodeid, u.service FROM service_use u JOIN test t ON t.id = u.test_id "
            "WHERE u.source = 'runtime'"
        )
        for nodeid, service in rows:
            out[nodeid].add(service)
        recorded = {
            n
            for (n,) in db.execute(
                "SELECT DISTINCT t.nodeid FROM duration d JOIN test t ON t.id = d.test_id"
            )
        }
        return {n: out.get(n, set()) for n in recorded}
    finally:
        db.close()


def test_every_test_records_the_services_it_really_uses(
    expected: dict, recorded_shop: Path
) -> None:
    got = runtime_services(recorded_shop)
    assert set(got) == set(expected["services"])
    wrong = {
        tid: (sorted(want), sorted(got[tid]))
        for tid, want in expected["services"].items()
        if set(want) != got[tid]
    }
    assert wrong == {}


def test_recorded_runs_classify_what_the_source_cannot(
    testmap_bin: str, expected: dict, recorded_shop: Path
) -> None:
    out = subprocess.run(
        [testmap_bin, "classify", "--json", str(recorded_shop)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    tests = {t["id"]: t for t in json.loads(out)["tests"]}
    for tid, why in expected["runtime_only"].items():
        t = tests[tid]
        assert not t["unknown"], (tid, why)
        assert t["services"] == sorted(expected["services"][tid]), tid
        assert any(r["source"] == "runtime" for r in t["reasons"]), tid
        # The static reason that made it unknown is still there to explain.
        assert any(r["rule"] == "dynamic" and r["source"] == "static" for r in t["reasons"])
    # Static rows stay static: --no-store still reports them unknown.
    static = subprocess.run(
        [testmap_bin, "classify", "--json", "--no-store", str(recorded_shop)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    static_tests = {t["id"]: t for t in json.loads(static)["tests"]}
    assert all(static_tests[tid]["unknown"] for tid in expected["runtime_only"])


def test_diff_lists_the_tests_static_analysis_could_not_classify(
    testmap_bin: str, expected: dict, recorded_shop: Path
) -> None:
    out = subprocess.run(
        [testmap_bin, "classify", "--diff", "--json", str(recorded_shop)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    diff = json.loads(out)
    assert diff["recorded"] == len(expected["services"])
    by_id = {d["id"]: d for d in diff["disagreements"]}
    assert set(by_id) == set(expected["dynamic_signal"])
    for tid in expected["dynamic_signal"]:
        assert by_id[tid]["static_unknown"]
        assert by_id[tid]["runtime"] == sorted(expected["services"][tid])


def test_enforcing_the_static_tiers_breaks_no_test(testmap_bin: str, tmp_path: Path) -> None:
    # Every static tier is right (unknown tests may use anything), so no connection is refused.
    root = copy_shop(tmp_path)
    proc = record_pytest(testmap_bin, root, enforce=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "341 passed" in proc.stdout
    assert "testmap:" not in proc.stdout


def test_enforcement_fails_a_test_outside_its_tier_with_a_clear_message(
    testmap_bin: str, tmp_path: Path
) -> None:
    root = copy_shop(tmp_path)
    # A test the source says needs nothing, which opens a Redis connection anyway.
    (root / "tests" / "unit" / "test_sneaky.py").write_text(
        "from shop.testing import servers\n"
        "import redis\n\n\n"
        "def test_sneaky():\n"
        "    server = servers.ensure('redis')\n"
        "    redis.Redis(port=server.port).ping()\n"
    )
    tid = "tests/unit/test_sneaky.py::test_sneaky"
    # Without enforcement it passes (and nothing is recorded: a recorded run would put
    # redis into its tier, since tiers come from the source and recorded runs together).
    plain = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", tid],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert plain.returncode == 0, plain.stdout[-2000:] + plain.stderr[-2000:]
    enforced = record_pytest(testmap_bin, root, tid, enforce=True)
    assert enforced.returncode == 1, enforced.stdout[-2000:]
    line = next(x for x in enforced.stdout.splitlines() if x.startswith(f"testmap: {tid}"))
    assert "redis at 127.0.0.1:" in line
    assert "no_services" in line
