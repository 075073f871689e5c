"""`testmap flaky`: a test whose outcome differs between recorded runs of the same code is
flaky; one that a commit (or an uncommitted edit) fixed or broke is not."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = """\
import os
from pathlib import Path

from app import settings


def test_sometimes():
    # Fails on every other run: a race, in miniature.
    counter = Path(os.environ["COUNTER"])
    n = int(counter.read_text()) if counter.exists() else 0
    counter.write_text(str(n + 1))
    assert n % 2 == 1


def test_always_broken():
    assert settings.BROKEN is False


def test_fixed_by_a_commit():
    assert settings.FIXED


def test_fine():
    assert True
"""

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
}


def write_project(root: Path) -> Path:
    (root / "app").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "settings.py").write_text("FIXED = False\nBROKEN = True\n")
    (root / "tests" / "test_x.py").write_text(TESTS)
    (root / "pyproject.toml").write_text("[tool.pytest.ini_options]\npythonpath = ['.']\n")
    return root


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = write_project(tmp_path / "proj")
    (root / ".gitignore").write_text(".testmap/\ncounter\n")
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-qm", "first")
    return root


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, env={**os.environ, **GIT_ENV}, check=True)


def run_suite(root: Path) -> None:
    env = {**os.environ, "COUNTER": str(root / "counter")}
    env.pop("PYTEST_XDIST_WORKER", None)
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--testmap-durations"]
    proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True)
    assert proc.returncode == 1, proc.stdout[-2000:]  # something always fails here


def flaky(testmap_bin: str, root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [testmap_bin, "flaky", *args], cwd=root, capture_output=True, text=True, check=True
    )


def test_only_a_test_that_differs_on_the_same_code_is_flaky(
    testmap_bin: str, project: Path
) -> None:
    for _ in range(4):
        run_suite(project)
    settings = project / "app" / "settings.py"
    settings.write_text("FIXED = True\nBROKEN = True\n")
    git(project, "commit", "-qam", "fix")
    for _ in range(2):
        run_suite(project)
    # An uncommitted edit is code of its own: its pass does not make the test flaky.
    settings.write_text("FIXED = True\nBROKEN = False\n")
    run_suite(project)

    found = json.loads(flaky(testmap_bin, project, "--json").stdout)
    assert found["runs"] == 7
    [sometimes] = found["flaky"]
    assert sometimes["test"] == "tests/test_x.py::test_sometimes"
    assert (sometimes["runs"], sometimes["passes"], sometimes["failures"]) == (7, 3, 4)
    assert sometimes["code_versions"] == 2  # it passed and failed on both commits
    assert [f["outcome"] for f in sometimes["last_failures"]] == ["failed"] * 3
    runs = [f["run"] for f in sometimes["last_failures"]]
    assert runs == sorted(runs, reverse=True)

    text = flaky(testmap_bin, project).stdout.splitlines()
    assert text[0] == "1 flaky test in 7 recorded runs (outcomes that differ on the same code):"
    assert text[1] == "  tests/test_x.py::test_sometimes  passed 3 of 7 runs (43%)"
    assert all(line.startswith("    failed in run ") for line in text[2:5])


def test_runs_outside_git_are_never_compared(testmap_bin: str, tmp_path: Path) -> None:
    root = write_project(tmp_path / "nogit")
    for _ in range(2):
        run_suite(root)
    proc = flaky(testmap_bin, root)
    assert "no recorded run knows the code it tested" in proc.stdout
    assert json.loads(flaky(testmap_bin, root, "--json").stdout) == {"runs": 0, "flaky": []}
