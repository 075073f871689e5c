"""With no config, the names a repository already uses say which services its tests need:
markers, fixtures and base classes whose words name a service (docs/config.md)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from collection import run_classify

TREE = {
    "pyproject.toml": "[tool.pytest.ini_options]\nmarkers = ['clickhouse_db: c', 'redis_db: r']\n",
    "tests/conftest.py": "import pytest\n\n\n@pytest.fixture\ndef mongo_client():\n"
    "    return None\n\n\n@pytest.fixture\ndef fake_redis():\n    return {}\n\n\n"
    "@pytest.fixture\ndef orders(mongo_client):\n    return []\n",
    "tests/base.py": "class RabbitMQTestCase:\n    pass\n",
    "tests/test_names.py": "import pytest\n\nfrom tests.base import RabbitMQTestCase\n\n\n"
    "@pytest.mark.clickhouse_db\ndef test_events():\n    pass\n\n\n"
    "@pytest.mark.redis_db\ndef test_sessions():\n    pass\n\n\n"
    "def test_orders(orders):\n    pass\n\n\n"
    "def test_with_a_stand_in(fake_redis):\n    pass\n\n\n"
    "class TestRedisKeyFormat:\n    def test_format(self):\n        pass\n\n\n"
    "class TestQueue(RabbitMQTestCase):\n    def test_publish(self):\n        pass\n",
    "tests/__init__.py": "",
}


def classify(testmap_bin: str, root: Path) -> dict[str, dict]:
    proc = run_classify(testmap_bin, root, "--json", "--no-store")
    assert proc.returncode == 0, proc.stderr
    return {t["id"]: t for t in json.loads(proc.stdout)["tests"]}


def test_names_that_name_a_service_need_it(
    testmap_bin: str, make_tree: Callable[..., Path]
) -> None:
    root = make_tree(TREE)
    tests = classify(testmap_bin, root)
    assert {i.split("::", 1)[1]: t["services"] for i, t in tests.items()} == {
        "test_events": ["clickhouse"],
        "test_sessions": ["redis"],
        "test_orders": ["mongodb"],  # through the fixture orders requests
        "test_with_a_stand_in": [],
        "TestRedisKeyFormat::test_format": [],  # the test class's own name says nothing
        "TestQueue::test_publish": ["rabbitmq"],
    }
    explained = run_classify(
        testmap_bin, root, "--no-store", "--explain", "tests/test_names.py::test_orders"
    )
    assert "inferred" in explained.stdout
    assert "fixture mongo_client, requested by orders: its name says mongodb" in explained.stdout


def test_the_config_overrides_what_a_name_says(
    testmap_bin: str, make_tree: Callable[..., Path]
) -> None:
    root = make_tree(
        {
            **TREE,
            "pyproject.toml": TREE["pyproject.toml"]
            + "[tool.testmap.services.events]\nports = [8123]\nmarkers = ['clickhouse_db']\n",
        }
    )
    tests = classify(testmap_bin, root)
    assert tests["tests/test_names.py::test_events"]["services"] == ["events"]
    (root / "pyproject.toml").write_text(TREE["pyproject.toml"] + "[tool.testmap]\ninfer = false\n")
    assert all(t["services"] == [] for t in classify(testmap_bin, root).values())


def test_the_table_says_when_no_rule_matched_any_test(
    testmap_bin: str, make_tree: Callable[..., Path]
) -> None:
    root = make_tree({"tests/test_plain.py": "def test_a():\n    pass\n"})
    proc = run_classify(testmap_bin, root, "--no-store")
    assert proc.returncode == 0, proc.stderr
    assert "no service rule matched any test" in proc.stdout
    assert "testmap init" in proc.stdout  # it says what writes a first config
    named = make_tree({"tests/test_r.py": "def test_r(redis_db):\n    pass\n"})
    assert "no service rule matched" not in run_classify(testmap_bin, named, "--no-store").stdout


def test_a_rule_can_hold_for_some_paths_only(
    testmap_bin: str, make_tree: Callable[..., Path]
) -> None:
    # get_client() is Redis in the billing app and a plain HTTP client elsewhere.
    test = "from lib import get_client\n\n\ndef test_it():\n    get_client()\n"
    root = make_tree(
        {
            "pyproject.toml": "[[tool.testmap.services.redis.rules]]\n"
            "calls = ['get_client']\npaths = ['apps/billing/**']\n",
            "lib.py": "def get_client():\n    pass\n",
            "apps/billing/tests/test_billing.py": test,
            "apps/shop/tests/test_shop.py": test,
        }
    )
    tests = classify(testmap_bin, root)
    assert tests["apps/billing/tests/test_billing.py::test_it"]["services"] == ["redis"]
    assert tests["apps/shop/tests/test_shop.py::test_it"]["services"] == []
    [reason] = tests["apps/billing/tests/test_billing.py::test_it"]["reasons"]
    assert reason["detail"].endswith("(rule for apps/billing/**)")
    # A rule without paths is a config error.
    (root / "pyproject.toml").write_text(
        "[[tool.testmap.services.redis.rules]]\ncalls = ['get_client']\n"
    )
    proc = run_classify(testmap_bin, root, "--no-store", "--strict")
    assert proc.returncode == 1
    assert "tool.testmap.services.redis.rules[0].paths" in proc.stderr
