"""Django projects that route tests to more than one database say so in the source: a test
class's `databases` and `django_db(databases=[...])`, mapped to services by
`[tool.testmap.django] databases` (docs/config.md)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from collection import run_classify

CONFIG = """[tool.pytest.ini_options]
[tool.testmap]
presets = ["django"]
[tool.testmap.services.timescale]
ports = [5433]
[tool.testmap.django]
databases = { timeseries = "timescale" }
"""

TESTS = """import pytest
from django.test import TestCase


class MetricsBase(TestCase):
    databases = {"default", "timeseries"}


class TestMetrics(MetricsBase):
    def test_points(self):
        pass


class TestAll(TestCase):
    databases = "__all__"

    def test_all(self):
        pass


class TestPlain(TestCase):
    def test_plain(self):
        pass


class TestLegacy(TestCase):
    databases = ["legacy"]

    def test_old(self):
        pass


@pytest.mark.django_db(databases=["timeseries"], transaction=True)
def test_marker():
    pass
"""


def tiers(testmap_bin: str, root: Path) -> dict[str, str]:
    proc = run_classify(testmap_bin, root, "--json", "--no-store")
    assert proc.returncode == 0, proc.stderr
    return {t["id"].split("::", 1)[1]: t["tier"] for t in json.loads(proc.stdout)["tests"]}


def test_database_aliases_are_the_services_they_map_to(
    testmap_bin: str, make_tree: Callable[..., Path]
) -> None:
    root = make_tree({"pyproject.toml": CONFIG, "tests/test_dj.py": TESTS})
    assert tiers(testmap_bin, root) == {
        "TestMetrics::test_points": "postgres_timescale",  # from the base class
        "TestAll::test_all": "postgres_timescale",
        "TestPlain::test_plain": "postgres_only",
        "TestLegacy::test_old": "unknown",  # an alias nothing maps: it could be anything
        "test_marker": "postgres_timescale",
    }
    explained = run_classify(
        testmap_bin, root, "--no-store", "--explain", "tests/test_dj.py::TestLegacy::test_old"
    )
    assert "'legacy', which [tool.testmap.django] databases does not map" in explained.stdout


def test_an_alias_mapped_to_no_service_is_a_config_error(
    testmap_bin: str, make_tree: Callable[..., Path]
) -> None:
    root = make_tree(
        {
            "pyproject.toml": CONFIG.replace('"timescale" }', '"timescaledb" }'),
            "tests/test_dj.py": TESTS,
        }
    )
    proc = run_classify(testmap_bin, root, "--no-store", "--strict")
    assert proc.returncode == 1
    assert "tool.testmap.django.databases.timeseries: unknown service 'timescaledb'" in proc.stderr
