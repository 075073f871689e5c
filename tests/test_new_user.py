"""Small things a new user hits on a first run: where an inherited test is defined, a reason
given twice, the words of `testmap record`'s summary."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from test_record_store import _own_address, echo_port, make_project

__all__ = ["echo_port"]

MIXIN_TREE = {
    "pyproject.toml": "[tool.pytest.ini_options]\ntestpaths = ['tests']\n",
    "tests/__init__.py": "",
    "tests/base.py": "class OrderChecks:\n    def test_total(self):\n        pass\n",
    "tests/test_orders.py": "from tests.base import OrderChecks\n\n\n"
    "class TestOrders(OrderChecks):\n    def test_own(self):\n        pass\n",
}


def test_an_inherited_test_points_at_the_mixin_that_defines_it(
    make_tree: Callable[..., Path], classify_json, run_testmap
) -> None:
    root = make_tree(MIXIN_TREE)
    tests = {t["id"]: t for t in classify_json(root)["tests"]}
    inherited = tests["tests/test_orders.py::TestOrders::test_total"]
    assert (inherited["file"], inherited["line"]) == ("tests/test_orders.py", 4)
    assert (inherited["defined_file"], inherited["defined_line"]) == ("tests/base.py", 2)
    own = tests["tests/test_orders.py::TestOrders::test_own"]
    assert (own["defined_file"], own["defined_line"]) == ("tests/test_orders.py", 5)

    explained = run_testmap(
        "classify", "--no-store", "--explain", "tests/test_orders.py::TestOrders::test_total", root
    )
    assert explained.returncode == 0, explained.stderr
    assert "defined in: tests/base.py:2 (inherited)" in explained.stdout
    own_text = run_testmap(
        "classify", "--no-store", "--explain", "tests/test_orders.py::TestOrders::test_own", root
    ).stdout
    assert "defined in" not in own_text


def test_a_rule_the_config_and_a_preset_both_give_is_one_reason(
    make_tree: Callable[..., Path], run_testmap
) -> None:
    root = make_tree(
        {
            "pyproject.toml": "[tool.testmap]\npresets = ['django']\n"
            "[tool.testmap.services.postgres]\nmarkers = ['django_db']\n",
            "tests/test_db.py": "import pytest\n\n\n@pytest.mark.django_db\ndef test_q():\n"
            "    pass\n",
        }
    )
    out = run_testmap("classify", "--no-store", "--explain", "tests/test_db.py::test_q", root)
    assert out.returncode == 0, out.stderr
    reasons = [line for line in out.stdout.splitlines() if line.strip().startswith("postgres")]
    assert len(reasons) == 1, out.stdout


def test_record_counts_tests_as_classify_does_and_names_external_traffic(
    testmap_bin: str, echo_port: int, tmp_path: Path
) -> None:
    # A listener on a non-loopback address of this machine that no service declares.
    outside = socket.socket()
    outside.bind((_own_address(), 0))
    outside.listen()
    host, port = outside.getsockname()
    root = make_project(
        tmp_path / "p",
        echo_port,
        "import pytest\n\n\n@pytest.mark.parametrize('n', [1, 2, 3])\n"
        "def test_many(n):\n    echo()\n\n\n"
        "def test_outside():\n"
        f"    socket.create_connection(({host!r}, {port})).close()\n",
    )
    try:
        proc = subprocess.run(
            [testmap_bin, "record", "--", sys.executable, *("-m", "pytest", "-q"), str(root)],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        outside.close()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = [line for line in proc.stderr.splitlines() if line.startswith("testmap record:")]
    assert summary[0] == (
        "testmap record: 2 tests (4 with their parametrized variants) recorded; "
        "1 of them used services: echo"
    ), proc.stderr
    # The address, and what listens there (this test's own pytest process).
    assert summary[1].startswith(
        "testmap record: 1 test reached addresses that no service declares or names (external): "
        f"{host}:{port} (python"
    ), proc.stderr
    # classify says 2 tests as well.
    listed = subprocess.run(
        [testmap_bin, "classify", "--json", str(root)], capture_output=True, text=True, timeout=120
    )
    assert len(json.loads(listed.stdout)["tests"]) == 2
