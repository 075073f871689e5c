"""Shared fixtures for the pytest suite: the `testmap` CLI and helpers to run it.

The CLI must be installed (``make build`` puts it in .venv/bin); a test that needs it fails,
never skips, when it is missing. Scenario repositories live under tests/fixtures/ and are
copied into a temporary directory before use, so nothing (store, caches) is written into
the source tree. pytest must not collect those scenarios as part of this suite.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import pytest
from collection import clean_env, collected_ids, write_tree
from shoprun import copy_shop, record_pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "examples" / "shop"))
from shop.testing import servers  # noqa: E402

FIXTURES = HERE / "fixtures"
CLI_TIMEOUT = 120  # seconds; generous, only there so that a hang fails instead of blocking

# The scenario repositories contain test files and conftest.py files of their own.
collect_ignore = ["fixtures"]


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    """The URL of a PostgreSQL server of the test module's own, on a free port in a temporary
    directory (Debian's binaries), stopped after the module's last test."""
    server = servers.PostgresServer().start()
    try:
        yield server.url
    finally:
        server.stop()


def _find_testmap() -> str | None:
    # The interpreter's own bin directory first (a venv that is not activated), then PATH.
    return shutil.which("testmap", path=os.path.dirname(sys.executable)) or shutil.which("testmap")


@pytest.fixture(scope="session")
def testmap_bin() -> str:
    """The path of the `testmap` executable; fails the test when it is not installed."""
    exe = _find_testmap()
    if exe is None:
        pytest.fail(
            "the `testmap` binary was not found next to "
            f"{sys.executable} nor on PATH; build and install it first (`make build`)",
            pytrace=False,
        )
    return exe


_clean_env = clean_env


RunTestmap = Callable[..., subprocess.CompletedProcess]


@pytest.fixture
def run_testmap(testmap_bin: str) -> RunTestmap:
    """Run ``testmap ARGS...``; returns the completed process (text output).

    A crash (killed by a signal) fails the test at once, with the output.
    """

    def run(
        *args: str | os.PathLike, cwd: str | os.PathLike | None = None, timeout: float = CLI_TIMEOUT
    ) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            [testmap_bin, *map(str, args)],
            cwd=cwd,
            capture_output=True,
            encoding="utf-8",
            errors="replace",
            timeout=timeout,
            env=_clean_env(),
        )
        if proc.returncode < 0:
            pytest.fail(
                f"testmap {' '.join(map(str, args))} was killed by signal {-proc.returncode}\n"
                f"stdout:\n{proc.stdout[-2000:]}\nstderr:\n{proc.stderr[-2000:]}"
            )
        return proc

    return run


@pytest.fixture
def classify_json(run_testmap: RunTestmap) -> Callable[..., dict[str, Any]]:
    """``testmap classify --json --no-store ROOT [EXTRA...]``, parsed; it must exit 0."""

    def classify(root: str | os.PathLike, *extra: str) -> dict[str, Any]:
        proc = run_testmap("classify", "--json", "--no-store", *extra, root)
        assert proc.returncode == 0, f"exit {proc.returncode}\nstderr:\n{proc.stderr}"
        return json.loads(proc.stdout)

    return classify


def tests_by_id(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The JSON tests keyed by id (duplicates would be a bug: checked here)."""
    ids = [t["id"] for t in result["tests"]]
    assert len(ids) == len(set(ids)), f"duplicate test ids: {ids}"
    return {t["id"]: t for t in result["tests"]}


@pytest.fixture
def by_id() -> Callable[[dict[str, Any]], dict[str, dict[str, Any]]]:
    """A function from a classification to its tests keyed by id."""
    return tests_by_id


@pytest.fixture
def scenario(tmp_path: Path) -> Callable[[str], Path]:
    """Copy tests/fixtures/NAME into tmp_path and return the copy's root."""

    def copy(name: str) -> Path:
        src = FIXTURES / name
        assert (src / "pyproject.toml").is_file(), f"no scenario {name} in {FIXTURES}"
        dst = tmp_path / name
        shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", ".testmap"))
        return dst

    return copy


@pytest.fixture
def make_tree(tmp_path: Path) -> Callable[..., Path]:
    """Write a small repository into tmp_path (or a sub-directory of it) and return its root."""

    def make(files: dict[str, str | bytes], subdir: str = "repo") -> Path:
        root = tmp_path / subdir
        root.mkdir(parents=True, exist_ok=True)
        return write_tree(root, files)

    return make


@pytest.fixture
def collected_by_pytest() -> Callable[[Path], set[str]]:
    """Run real ``pytest --collect-only -q`` in a repository; the node ids, parametrize ids
    stripped. Collection must succeed."""

    def collect(root: Path) -> set[str]:
        return collected_ids(root)

    return collect


@pytest.fixture(scope="session")
def recorded_shop(testmap_bin: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the shop whose whole suite `testmap record` ran once (with -n 2).

    Shared by the tests that read recorded runs, plans and CI files: they must not change
    it (or must undo what they change).
    """
    root = copy_shop(tmp_path_factory.mktemp("recorded"))
    proc = record_pytest(testmap_bin, root, "-n", "2")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "341 passed" in proc.stdout
    return root
