"""The example shop's static classification agrees with its hand-written ground truth.

`examples/shop/expected_services.toml` says, test by test, which services each test really
uses. Every statically visible case must match exactly; tests that choose their services at
run time must be reported as not statically known (the `unknown` tier), never guessed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SHOP = Path(__file__).resolve().parent.parent / "examples" / "shop"


@pytest.fixture(scope="module")
def expected() -> dict:
    with open(SHOP / "expected_services.toml", "rb") as f:
        return tomllib.load(f)


@pytest.fixture(scope="module")
def classified(testmap_bin: str) -> dict:
    out = subprocess.run(
        [testmap_bin, "classify", "--json", "--no-store", str(SHOP)],
        check=True,
        capture_output=True,
        text=True,
    )
    return {t["id"]: t for t in json.loads(out.stdout)["tests"]}


def test_every_collected_test_is_classified(expected: dict, classified: dict) -> None:
    assert set(classified) == set(expected["services"])


def test_statically_visible_services_match(expected: dict, classified: dict) -> None:
    dynamic = set(expected["dynamic_signal"])
    wrong = {
        tid: (sorted(services), classified[tid]["services"], classified[tid]["unknown"])
        for tid, services in expected["services"].items()
        if tid not in dynamic
        and (classified[tid]["unknown"] or classified[tid]["services"] != sorted(services))
    }
    assert wrong == {}


def test_run_time_choices_are_not_statically_known(expected: dict, classified: dict) -> None:
    assert set(expected["runtime_only"]) <= set(expected["dynamic_signal"])
    for tid in expected["dynamic_signal"]:
        test = classified[tid]
        assert test["unknown"] and test["tier"] == "unknown", tid
        assert any(r["rule"] == "dynamic" for r in test["reasons"]), tid


def test_explain_names_rule_file_and_line(testmap_bin: str) -> None:
    tid = "tests/orders/test_repo.py::TestOrderRepo::test_create"
    out = subprocess.run(
        [testmap_bin, "classify", "--no-store", "--explain", tid, str(SHOP)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert "postgres" in out
    assert "fixture" in out
    # The reason points at the fixture that implies the service, where it is defined.
    lines = (SHOP / "conftest.py").read_text().splitlines()
    line = next(i for i, text in enumerate(lines, 1) if "def postgres_server(" in text)
    assert f"(conftest.py:{line})" in out


def test_pytest_collects_the_same_ids(classified: dict) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=SHOP,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    ids = {line.split("[", 1)[0] for line in out.splitlines() if "::" in line}
    assert ids == set(classified)
